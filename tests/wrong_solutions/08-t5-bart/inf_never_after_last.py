# replaces: text_infilling
# fails: test_text_infilling
# Chooses the gaps from range(kept): no span ever goes after the last kept token.
def text_infilling(tokens, mask, rng, p=0.3, poisson_lambda=3.0, eos=None, pad=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must lie in [0, 1), got {p}")
    text, tail = split_text(tokens, eos, pad)
    budget = round(p * len(text))
    lengths, total = [], 0
    while total < budget:
        length = min(poisson(rng, poisson_lambda), budget - total)
        lengths.append(length)
        total += length
    kept = len(text) - budget
    if len(lengths) > kept + 1:
        raise ValueError(f"{len(lengths)} spans do not fit into the {kept + 1} gaps between the kept tokens")
    gaps = sorted(rng.sample(range(kept), min(len(lengths), kept)))
    out, position, kept_so_far = [], 0, 0
    for gap, length in zip(gaps, lengths):
        out += text[position:position + gap - kept_so_far]
        out.append(mask)
        position += gap - kept_so_far + length
        kept_so_far = gap
    return out + text[position:] + tail

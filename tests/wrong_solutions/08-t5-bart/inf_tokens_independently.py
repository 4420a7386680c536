# replaces: text_infilling
# fails: test_text_infilling
# Masks every token independently with probability p and merges each run into one mask: about 30 %,
# but not round(p * n), with geometric rather than Poisson span lengths and no zero-length spans.
def text_infilling(tokens, mask, rng, p=0.3, poisson_lambda=3.0, eos=None, pad=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must lie in [0, 1), got {p}")
    text, tail = split_text(tokens, eos, pad)
    out = []
    for token in text:
        if rng.random() < p:
            if not out or out[-1] != mask:
                out.append(mask)
        else:
            out.append(token)
    return out + tail

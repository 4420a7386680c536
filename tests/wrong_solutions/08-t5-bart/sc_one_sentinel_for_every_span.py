# replaces: span_corruption
# fails: test_span_corruption
# Marks every span with the same sentinel (BART-style), closing with the next one: with two spans or
# more, the targets no longer say which gap each span fills.
def split_text(tokens, eos=None, pad=None):
    end = len(tokens)
    if pad is not None:
        while end > 0 and tokens[end - 1] == pad:
            end -= 1
    if eos is not None and end > 0 and tokens[end - 1] == eos:
        end -= 1
    return list(tokens[:end]), list(tokens[end:])


def span_corruption(tokens, sentinels, rng, noise_density=0.15, mean_span_length=3.0, eos=None, pad=None):
    text, tail = split_text(tokens, eos, pad)
    mask = random_spans_noise_mask(len(text), noise_density, mean_span_length, rng)
    if len(sentinels) < 2:
        raise ValueError("two sentinels are needed")
    inputs, targets = [], []
    for i, (token, dropped) in enumerate(zip(text, mask)):
        if dropped:
            if i == 0 or not mask[i - 1]:
                inputs.append(sentinels[0])
                targets.append(sentinels[0])
            targets.append(token)
        else:
            inputs.append(token)
    targets.append(sentinels[1])
    if tail and eos is not None and tail[0] == eos:
        targets.append(eos)
    return inputs + tail, targets

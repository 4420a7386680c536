# replaces: span_corruption
# fails: test_span_corruption
# Off by one: after a span it jumps past the first kept token as well, which is lost from both the
# inputs and the targets (unnoticed when the only span ends the text).
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
    num_spans = sum(1 for i, dropped in enumerate(mask) if dropped and (i == 0 or not mask[i - 1]))
    if num_spans + 1 > len(sentinels):
        raise ValueError(f"{num_spans} spans need {num_spans + 1} sentinels, got {len(sentinels)}")
    inputs, targets, span, i = [], [], 0, 0
    while i < len(text):
        if mask[i]:
            j = i
            while j < len(text) and mask[j]:
                j += 1
            inputs.append(sentinels[span])
            targets += [sentinels[span], *text[i:j]]
            span += 1
            i = j + 1
        else:
            inputs.append(text[i])
            i += 1
    targets.append(sentinels[span])
    if tail and eos is not None and tail[0] == eos:
        targets.append(eos)
    return inputs + tail, targets

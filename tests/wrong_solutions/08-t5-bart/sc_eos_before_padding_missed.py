# replaces: span_corruption
# fails: test_span_corruption
# Looks for the eos before stripping the padding: in a padded sequence the eos is not last, so it
# counts as text, and the final span (T5's always ends the text) swallows it.
def split_text(tokens, eos=None, pad=None):
    end = len(tokens)
    if eos is not None and end > 0 and tokens[end - 1] == eos:
        end -= 1
    if pad is not None:
        while end > 0 and tokens[end - 1] == pad:
            end -= 1
    return list(tokens[:end]), list(tokens[end:])


def span_corruption(tokens, sentinels, rng, noise_density=0.15, mean_span_length=3.0, eos=None, pad=None):
    text, tail = split_text(tokens, eos, pad)
    mask = random_spans_noise_mask(len(text), noise_density, mean_span_length, rng)
    num_spans = sum(1 for i, dropped in enumerate(mask) if dropped and (i == 0 or not mask[i - 1]))
    if num_spans + 1 > len(sentinels):
        raise ValueError(f"{num_spans} spans need {num_spans + 1} sentinels, got {len(sentinels)}")
    inputs, targets, span = [], [], -1
    for i, (token, dropped) in enumerate(zip(text, mask)):
        if dropped:
            if i == 0 or not mask[i - 1]:
                span += 1
                inputs.append(sentinels[span])
                targets.append(sentinels[span])
            targets.append(token)
        else:
            inputs.append(token)
    targets.append(sentinels[span + 1])
    if tail and eos is not None and tail[0] == eos:
        targets.append(eos)
    return inputs + tail, targets

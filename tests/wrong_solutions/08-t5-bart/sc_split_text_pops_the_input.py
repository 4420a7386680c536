# replaces: span_corruption
# fails: test_span_corruption
# split_text pops the padding and the eos off the caller's list: the caller's tokens lose their end.
def split_text(tokens: list, eos=None, pad=None) -> tuple[list, list]:
    """(text, tail): tail is the trailing padding and the eos just before it, which are never corrupted."""
    tail = []
    if pad is not None:
        while tokens and tokens[-1] == pad:
            tail.insert(0, tokens.pop())
    if eos is not None and tokens and tokens[-1] == eos:
        tail.insert(0, tokens.pop())
    return tokens, tail


def span_corruption(tokens: list, sentinels: list, rng: random.Random, noise_density: float = 0.15,
                    mean_span_length: float = 3.0, eos=None, pad=None) -> tuple[list, list]:
    """T5's span corruption -> (inputs, targets): every dropped span replaced by its own sentinel."""
    text, tail = split_text(tokens, eos, pad)
    mask = random_spans_noise_mask(len(text), noise_density, mean_span_length, rng)
    num_spans = sum(1 for i, dropped in enumerate(mask) if dropped and (i == 0 or not mask[i - 1]))
    if num_spans + 1 > len(sentinels):
        raise ValueError(f"{num_spans} spans need {num_spans + 1} sentinels (one per span and one to close the"
                         f" targets), got {len(sentinels)}")
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

# replaces: random_spans_noise_mask
# fails: test_noise_mask
# Never checks its arguments: a negative noise_density or a one-token text goes through without a word.
def random_spans_noise_mask(length, noise_density, mean_span_length, rng):
    if noise_density == 0 or length < 2:
        return [False] * length
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(round(num_noise / mean_span_length), 1)
    noise_lengths = random_segmentation(num_noise, num_spans, rng)
    kept_lengths = random_segmentation(length - num_noise, num_spans, rng)
    mask = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return mask

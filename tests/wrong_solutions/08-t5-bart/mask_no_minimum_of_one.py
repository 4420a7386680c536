# replaces: random_spans_noise_mask
# fails: test_noise_mask
# Leaves out T5's "at least 1, at most length - 1": a short text (round(3 * 0.15) = 0) gets no noise at all.
def random_spans_noise_mask(length, noise_density, mean_span_length, rng):
    if not 0 <= noise_density < 1:
        raise ValueError(f"noise_density must lie in [0, 1), got {noise_density}")
    if noise_density == 0:
        return [False] * length
    if length < 2:
        raise ValueError(f"a text of {length} token(s) is too short to corrupt")
    num_noise = round(length * noise_density)
    if num_noise == 0:
        return [False] * length
    num_spans = max(round(num_noise / mean_span_length), 1)
    noise_lengths = random_segmentation(num_noise, num_spans, rng)
    kept_lengths = random_segmentation(length - num_noise, num_spans, rng)
    mask = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return mask

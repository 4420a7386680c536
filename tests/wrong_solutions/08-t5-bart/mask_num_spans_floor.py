# replaces: random_spans_noise_mask
# fails: test_noise_mask
# Counts the spans with int(num_noise / mean_span_length), which floors: 5 dropped tokens make 1 span, not
# round(5 / 3) = 2.
def random_spans_noise_mask(length, noise_density, mean_span_length, rng):
    if not 0 <= noise_density < 1:
        raise ValueError(f"noise_density must lie in [0, 1), got {noise_density}")
    if noise_density == 0:
        return [False] * length
    if length < 2:
        raise ValueError(f"a text of {length} token(s) is too short to corrupt: it needs at least 2")
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(int(num_noise / mean_span_length), 1)
    noise_lengths = random_segmentation(num_noise, num_spans, rng)
    kept_lengths = random_segmentation(length - num_noise, num_spans, rng)
    mask = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return mask

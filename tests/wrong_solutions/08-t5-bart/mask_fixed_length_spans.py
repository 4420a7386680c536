# replaces: random_spans_noise_mask
# fails: test_noise_mask
# Gives every span the same length (3 tokens at 15 %, mean 3): the counts are right, but T5's span
# lengths vary, from 1 to well over 3.
def random_spans_noise_mask(length, noise_density, mean_span_length, rng):
    if not 0 <= noise_density < 1:
        raise ValueError(f"noise_density must lie in [0, 1), got {noise_density}")
    if noise_density == 0:
        return [False] * length
    if length < 2:
        raise ValueError(f"a text of {length} token(s) is too short to corrupt")
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(round(num_noise / mean_span_length), 1)
    size, extra = divmod(num_noise, num_spans)
    noise_lengths = [size + (i < extra) for i in range(num_spans)]
    kept_lengths = random_segmentation(length - num_noise, num_spans, rng)
    mask = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return mask

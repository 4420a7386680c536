# replaces: random_spans_noise_mask
# fails: test_noise_mask
# Drops every token independently with probability noise_density (BERT's way): 15 % on average,
# but not the fixed count, and the spans are mostly a single token long.
def random_spans_noise_mask(length, noise_density, mean_span_length, rng):
    if not 0 <= noise_density < 1:
        raise ValueError(f"noise_density must lie in [0, 1), got {noise_density}")
    if noise_density > 0 and length < 2:
        raise ValueError(f"a text of {length} token(s) is too short to corrupt")
    return [rng.random() < noise_density for _ in range(length)]

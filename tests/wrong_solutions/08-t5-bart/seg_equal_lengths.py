# replaces: random_segmentation
# fails: test_random_segmentation
# Cuts the items into equal segments: every span has the same length, nothing is random.
def random_segmentation(num_items, num_segments, rng):
    size, extra = divmod(num_items, num_segments)
    return [size + (i < extra) for i in range(num_segments)]

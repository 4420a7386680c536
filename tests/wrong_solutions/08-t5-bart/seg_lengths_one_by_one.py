# replaces: random_segmentation
# fails: test_random_segmentation
# Draws each length uniformly from what is left: positive lengths that add up, but the first segments
# come out long far more often than a uniform split allows.
def random_segmentation(num_items, num_segments, rng):
    lengths, left = [], num_items
    for segments_left in range(num_segments, 1, -1):
        length = rng.randint(1, left - (segments_left - 1))
        lengths.append(length)
        left -= length
    return lengths + [left]

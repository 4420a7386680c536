# replaces: random_segmentation
# fails: test_random_segmentation
# Draws the cuts from the global random instead of rng: the same seed gives other lengths every time.
def random_segmentation(num_items, num_segments, rng):
    cuts = sorted(random.sample(range(1, num_items), num_segments - 1))
    bounds = [0, *cuts, num_items]
    return [b - a for a, b in zip(bounds, bounds[1:])]

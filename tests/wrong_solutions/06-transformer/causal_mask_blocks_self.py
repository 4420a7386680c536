# replaces: causal_mask
# fails: test_causal_mask
# Strictly below the diagonal: a position may not attend to itself, and the first one to nothing.
def causal_mask(length):
    return torch.ones(length, length, dtype=torch.bool).tril(diagonal=-1)

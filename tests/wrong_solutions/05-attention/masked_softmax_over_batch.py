# replaces: masked_softmax
# fails: test_masked_softmax
# Softmax over dim=0 (the batch) instead of over the source positions.
def masked_softmax(scores, mask):
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=0)

# replaces: masked_softmax
# fails: test_masked_softmax
# A score of 0 is not "no weight": exp(0) = 1 still takes a share.
def masked_softmax(scores, mask):
    return torch.softmax(scores.masked_fill(~mask, 0.0), dim=-1)

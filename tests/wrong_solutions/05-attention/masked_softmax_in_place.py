# replaces: masked_softmax
# fails: test_masked_softmax
# masked_fill_ (with the underscore) writes -inf into the caller's scores.
def masked_softmax(scores, mask):
    return torch.softmax(scores.masked_fill_(~mask, float("-inf")), dim=-1)

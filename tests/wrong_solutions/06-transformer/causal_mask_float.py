# replaces: causal_mask
# fails: test_causal_mask
# Returns a float tensor of ones and zeros: masked_fill(~mask) then fails, and 0/1 floats are not a bool mask.
def causal_mask(length):
    return torch.ones(length, length).tril()

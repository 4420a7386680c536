# replaces: causal_mask
# fails: test_causal_mask
# Transposed (True on and above the diagonal): every position sees the future and not the past.
def causal_mask(length):
    return torch.ones(length, length, dtype=torch.bool).triu()

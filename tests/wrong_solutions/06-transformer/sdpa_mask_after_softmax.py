# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Zeroes masked weights after the softmax: the remaining weights no longer sum to 1.
def scaled_dot_product_attention(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v, weights

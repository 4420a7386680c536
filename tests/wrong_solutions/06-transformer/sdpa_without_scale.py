# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Forgets the 1/sqrt(d_k): plain dot-product attention, too peaked for large d_k.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

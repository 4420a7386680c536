# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Divides the scores by d_k instead of sqrt(d_k): the softmax comes out too flat.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / q.size(-1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Takes the softmax over dim=-2 (the queries) instead of the keys: each key's weights sum to 1.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-2)
    return weights @ v, weights

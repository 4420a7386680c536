# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Returns (weights, output) instead of (output, weights).
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights, weights @ v

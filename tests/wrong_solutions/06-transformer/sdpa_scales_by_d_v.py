# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Scales by the square root of the values' size (v.size(-1)) instead of d_k: right only when d_v = d_k.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(v.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

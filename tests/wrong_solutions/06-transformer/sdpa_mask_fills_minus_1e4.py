# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Fills masked scores with -1e4 (as some tutorials do for float16) instead of -inf: when the real scores are
# even lower, the masked keys take the weight.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e4)
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

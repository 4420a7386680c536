# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Writes the softmax by hand, exp(scores) / sum(exp(scores)), without subtracting the maximum: right for small
# scores, but very large ones overflow (inf / inf) or underflow (0 / 0) to nan.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    exp = torch.exp(scores)
    weights = exp / exp.sum(dim=-1, keepdim=True)
    return weights @ v, weights

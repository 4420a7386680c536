# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Scales the queries in place (q.div_): right result, but the caller's q is changed, and a second call scales it again.
def scaled_dot_product_attention(q, k, v, mask=None):
    q = q.div_(math.sqrt(q.size(-1)))
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Turns the mask into 'blocked' positions in place (mask.logical_not_()): its own result is right, but the
# caller's mask is inverted, and the next use of it masks the real tokens.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        blocked = mask.logical_not_()
        scores = scores.masked_fill(blocked, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

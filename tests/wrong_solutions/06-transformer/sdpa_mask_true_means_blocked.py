# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Reads the mask the way torch.nn.MultiheadAttention does (True = blocked): attends only to padding and the future.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

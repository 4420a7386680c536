# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# Transposes dimensions 2 and 3 of k, which are the last two only for (B, h, L, d) tensors: fails on plain matrices
# and on more leading dimensions, which the contract allows.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(2, 3) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

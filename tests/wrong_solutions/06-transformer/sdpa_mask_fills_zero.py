# replaces: scaled_dot_product_attention
# fails: test_scaled_dot_product_attention
# A score of 0 is not "no weight": exp(0) = 1 still gives masked keys a share.
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights

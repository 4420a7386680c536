# replaces: dot_attention
# fails: test_dot_attention
# Divides by sqrt(H) as the Transformer does: Luong's dot score is not scaled.
def dot_attention(query, keys, mask):
    scores = torch.bmm(keys, query.unsqueeze(2)).squeeze(2) / keys.size(-1) ** 0.5
    weights = masked_softmax(scores, mask)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights

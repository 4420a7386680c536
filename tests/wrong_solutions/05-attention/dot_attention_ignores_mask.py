# replaces: dot_attention
# fails: test_dot_attention
# Attends to the padding too.
def dot_attention(query, keys, mask):
    weights = torch.softmax(torch.bmm(keys, query.unsqueeze(2)).squeeze(2), dim=-1)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights

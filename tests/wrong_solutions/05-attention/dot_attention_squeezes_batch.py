# replaces: dot_attention
# fails: test_dot_attention
# squeeze() with no dimension drops the batch dimension of a batch of one.
def dot_attention(query, keys, mask):
    weights = masked_softmax(torch.bmm(keys, query.unsqueeze(2)).squeeze(), mask)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(), weights

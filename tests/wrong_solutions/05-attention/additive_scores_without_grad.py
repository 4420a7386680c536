# replaces: additive
# fails: test_additive
# Scores computed under no_grad: the score network would never learn.
class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, attention_size):
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, query, keys, mask):
        with torch.no_grad():
            scores = self.v(torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))).squeeze(-1)
        weights = masked_softmax(scores, mask)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights

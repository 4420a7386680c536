# replaces: additive
# fails: test_additive
# Without the tanh the "network" is linear: v^T (W_q s + W_k h).
class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, attention_size):
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, query, keys, mask):
        scores = self.v(self.W_q(query).unsqueeze(1) + self.W_k(keys)).squeeze(-1)
        weights = masked_softmax(scores, mask)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights

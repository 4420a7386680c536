# replaces: additive
# fails: test_additive
# Sums the projected keys W_k h_j instead of the encoder states h_j themselves.
class AdditiveAttention(nn.Module):
    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, query, keys, mask):
        projected = self.W_k(keys)
        scores = self.v(torch.tanh(self.W_q(query).unsqueeze(1) + projected)).squeeze(-1)
        weights = masked_softmax(scores, mask)
        return torch.bmm(weights.unsqueeze(1), projected).squeeze(1), weights

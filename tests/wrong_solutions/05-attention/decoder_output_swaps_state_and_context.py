# replaces: decoder_step
# fails: test_decoder_step
# The output layer reads [c_i; s_i] instead of [s_i; c_i].
class BahdanauDecoderStep(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, attention_size: int, pad_id: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.attention = AdditiveAttention(hidden_size, hidden_size, attention_size)
        self.rnn = nn.GRU(emb_dim + hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(2 * hidden_size, vocab_size)

    def forward(self, prev_tokens, hidden, memory, mask):
        embedded = self.embedding(prev_tokens)
        context, weights = self.attention(hidden[-1], memory, mask)
        output, new_hidden = self.rnn(torch.cat([embedded, context], dim=-1).unsqueeze(1), hidden)
        logits = self.out(torch.cat([context, output.squeeze(1)], dim=-1))
        return logits, new_hidden, weights

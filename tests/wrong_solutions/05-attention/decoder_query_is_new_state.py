# replaces: decoder_step
# fails: test_decoder_step
# The query is the new state s_i (Luong's order): the GRU runs first, on the embedding and a
# zero context, and attention follows with s_i instead of s_{i-1}.
class BahdanauDecoderStep(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, attention_size: int, pad_id: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.attention = AdditiveAttention(hidden_size, hidden_size, attention_size)
        self.rnn = nn.GRU(emb_dim + hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(2 * hidden_size, vocab_size)

    def forward(self, prev_tokens, hidden, memory, mask):
        embedded = self.embedding(prev_tokens)
        zeros = memory.new_zeros(memory.size(0), memory.size(2))
        output, new_hidden = self.rnn(torch.cat([embedded, zeros], dim=-1).unsqueeze(1), hidden)
        context, weights = self.attention(new_hidden[-1], memory, mask)
        logits = self.out(torch.cat([output.squeeze(1), context], dim=-1))
        return logits, new_hidden, weights

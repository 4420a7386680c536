# replaces: encoder
# fails: test_encoder_unsorted
# pack_padded_sequence's default enforce_sorted=True raises on lengths not in decreasing order.
class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, pad_id=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)

    def forward(self, src, lengths):
        packed = pack_padded_sequence(self.embedding(src), lengths.cpu(), batch_first=True)
        packed_outputs, context = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=src.size(1))
        return outputs, context

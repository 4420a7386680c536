# replaces: encoder
# fails: test_encoder_padding
# Packs correctly but reads the context from the last column of outputs, which is
# padding (zero) for every sequence shorter than the batch.
class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, pad_id=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)

    def forward(self, src, lengths):
        packed = pack_padded_sequence(self.embedding(src), lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_outputs, _ = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=src.size(1))
        return outputs, outputs[:, -1].unsqueeze(0)

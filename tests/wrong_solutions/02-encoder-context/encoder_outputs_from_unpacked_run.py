# replaces: encoder
# fails: test_encoder_padding
# Takes the context from a packed run but the outputs from a second, unpacked run over the
# padded batch: the outputs at padding positions are GRU states, not zero.
class Encoder(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)

    def forward(self, src, lengths):
        x = self.embedding(src)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, context = self.rnn(packed)
        outputs, _ = self.rnn(x)
        return outputs, context

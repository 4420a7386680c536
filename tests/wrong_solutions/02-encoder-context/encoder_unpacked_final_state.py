# replaces: encoder
# fails: test_encoder_padding
# Runs the GRU over the padded batch: h_n is the state after the padding, not at each
# sequence's last real token, and the outputs at padding positions are not zero.
class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, pad_id=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)

    def forward(self, src, lengths):
        outputs, context = self.rnn(self.embedding(src))
        return outputs, context

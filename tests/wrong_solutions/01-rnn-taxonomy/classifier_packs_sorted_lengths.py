# replaces: classifier
# fails: test_classifier
# Packs the batch with pack_padded_sequence's default enforce_sorted=True: right for lengths
# in decreasing order, an error for any other order.
class DigitClassifier(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, num_classes: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(x), lengths.cpu(), batch_first=True)
        _, h_n = self.rnn(packed)
        return self.head(h_n[-1])

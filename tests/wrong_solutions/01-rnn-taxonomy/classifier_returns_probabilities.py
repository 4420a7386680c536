# replaces: classifier
# fails: test_classifier
# Returns softmax probabilities instead of the head's logits.
class DigitClassifier(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, hidden_size: int, num_classes: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(self.embedding(x))
        return self.head(last_hidden(outputs, lengths)).softmax(dim=-1)

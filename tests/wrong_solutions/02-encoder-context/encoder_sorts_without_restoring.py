# replaces: encoder
# fails: test_encoder_unsorted
# Sorts the batch by length for packing, but returns the results in the sorted order,
# not in the order of the rows it was given.
class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, pad_id=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)

    def forward(self, src, lengths):
        sorted_lengths, order = torch.sort(lengths, descending=True, stable=True)
        packed = pack_padded_sequence(self.embedding(src[order]), sorted_lengths.cpu(), batch_first=True)
        packed_outputs, context = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=src.size(1))
        return outputs, context

# replaces: positional_encoding
# fails: test_positional_encoding
# Counts positions from 1: the first row is the encoding of position 1, not 0.
def positional_encoding(max_len, d_model):
    position = torch.arange(1, max_len + 1, dtype=torch.float32)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float32)
    angle = position / 10000 ** (two_i / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe

# replaces: positional_encoding
# fails: test_positional_encoding
# Takes i from arange(0, d_model, 2), which is already 2i, and doubles it again: 10000^(4i/d_model).
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    i = torch.arange(0, d_model, 2, dtype=torch.float32)
    angle = position / 10000 ** (2 * i / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe

# replaces: positional_encoding
# fails: test_positional_encoding
# Makes d_model // 2 angles, one per sine-cosine pair: right for an even d_model, but an odd one has one
# more sine column, and the assignment of the sines fails.
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    two_i = 2 * torch.arange(d_model // 2, dtype=torch.float32)
    angle = position / 10000 ** (two_i / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe

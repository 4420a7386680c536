# replaces: positional_encoding
# fails: test_positional_encoding
# Uses the pair index i in the exponent, 10000^(i/d_model), instead of 2i: the wavelengths grow too slowly.
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    i = torch.arange((d_model + 1) // 2, dtype=torch.float32)
    angle = position / 10000 ** (i / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe

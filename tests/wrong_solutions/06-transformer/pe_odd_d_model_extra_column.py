# replaces: positional_encoding
# fails: test_positional_encoding
# Interleaves a sine and a cosine for each of the ceil(d_model / 2) angles: an odd d_model gets d_model + 1 columns.
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float32)
    angle = position / 10000 ** (two_i / d_model)
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).flatten(1)

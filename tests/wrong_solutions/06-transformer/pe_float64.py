# replaces: positional_encoding
# fails: test_positional_encoding
# Builds the table in float64 (torch.arange of floats with dtype=torch.float64, as numpy would): the model's
# float32 embeddings would be promoted, or the addition fails.
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = position / 10000 ** (two_i / d_model)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe

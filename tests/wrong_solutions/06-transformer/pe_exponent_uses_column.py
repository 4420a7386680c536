# replaces: positional_encoding
# fails: test_positional_encoding
# Uses each column's own index j in the exponent, 10000^(j/d_model): the cosine in column 2i+1 gets
# another angle than the sine it pairs with.
def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    j = torch.arange(d_model, dtype=torch.float32)
    angle = position / 10000 ** (j / d_model)
    pe = torch.where(j.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe

# replaces: last_hidden
# fails: test_last_hidden
# Reads the state after the padding instead of at each sequence's own last position.
def last_hidden(outputs, lengths):
    return outputs[:, -1]

# replaces: last_hidden
# fails: test_last_hidden
# Reads the right states but through .detach(), so no gradient reaches the RNN in training.
def last_hidden(outputs, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))
    return outputs.detach().gather(1, index).squeeze(1)

# replaces: last_hidden
# fails: test_last_hidden
# squeeze() with no dimension also drops the batch dimension of a batch of one.
def last_hidden(outputs, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))
    return outputs.gather(1, index).squeeze()

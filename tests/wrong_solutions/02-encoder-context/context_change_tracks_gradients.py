# replaces: context_change
# fails: test_context_change
# Right numbers, but computed outside torch.no_grad(): the result drags a graph along.
def context_change(encoder, src, lengths, from_end, new_ids):
    rows = torch.arange(src.size(0))
    changed = src.clone()
    changed[rows, lengths - 1 - from_end] = new_ids
    c = encoder(src, lengths)[1][-1]
    c_changed = encoder(changed, lengths)[1][-1]
    return (c_changed - c).norm(dim=-1) / c.norm(dim=-1)

# replaces: context_change
# fails: test_context_change
# Right numbers, but it writes the new token into the caller's src instead of a copy.
def context_change(encoder, src, lengths, from_end, new_ids):
    rows = torch.arange(src.size(0))
    with torch.no_grad():
        c = encoder(src, lengths)[1][-1]
        src[rows, lengths - 1 - from_end] = new_ids
        c_changed = encoder(src, lengths)[1][-1]
    return (c_changed - c).norm(dim=-1) / c.norm(dim=-1)

# replaces: context_change
# fails: test_context_change
# Divides by the norm of the changed context c' instead of the original c.
def context_change(encoder, src, lengths, from_end, new_ids):
    rows = torch.arange(src.size(0))
    changed = src.clone()
    changed[rows, lengths - 1 - from_end] = new_ids
    with torch.no_grad():
        c = encoder(src, lengths)[1][-1]
        c_changed = encoder(changed, lengths)[1][-1]
    return (c_changed - c).norm(dim=-1) / c_changed.norm(dim=-1)

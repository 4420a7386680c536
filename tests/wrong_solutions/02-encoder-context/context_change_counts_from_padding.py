# replaces: context_change
# fails: test_context_change
# Counts positions back from the end of the padded tensor, not from each sequence's own
# last real token: in a short sequence it changes a padding token, which changes nothing.
def context_change(encoder, src, lengths, from_end, new_ids):
    changed = src.clone()
    changed[:, src.size(1) - 1 - from_end] = new_ids
    with torch.no_grad():
        c = encoder(src, lengths)[1][-1]
        c_changed = encoder(changed, lengths)[1][-1]
    return (c_changed - c).norm(dim=-1) / c.norm(dim=-1)

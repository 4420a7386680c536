# replaces: teacher_forced_loss
# fails: test_teacher_forced_loss
# Ignores id 0 instead of the pad_id it is given.
def teacher_forced_loss(step, hidden, memory, mask, tgt, pad_id):
    logits = []
    for t in range(tgt.size(1) - 1):
        step_logits, hidden, _ = step(tgt[:, t], hidden, memory, mask)
        logits.append(step_logits)
    logits = torch.stack(logits, dim=1)
    return nn.functional.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), ignore_index=0)

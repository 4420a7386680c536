# replaces: teacher_forced_loss
# fails: test_teacher_forced_loss
# Detaches the state after each step (truncated backpropagation): the loss is right, its gradient is not.
def teacher_forced_loss(step, hidden, memory, mask, tgt, pad_id):
    logits = []
    for t in range(tgt.size(1) - 1):
        step_logits, hidden, _ = step(tgt[:, t], hidden, memory, mask)
        hidden = hidden.detach()
        logits.append(step_logits)
    logits = torch.stack(logits, dim=1)
    return nn.functional.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), ignore_index=pad_id)

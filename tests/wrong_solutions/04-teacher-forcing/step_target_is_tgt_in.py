# replaces: train_step
# fails: test_train_step_loss
# Reads tgt_in but also scores against tgt_in: no shift between input and target.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss = masked_cross_entropy(logits, batch.tgt_in, pad_id=model.config.pad_id)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()

# replaces: train_step
# fails: test_train_step_update
# Clips after optimizer.step(): the update has already used the unclipped gradient.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss = masked_cross_entropy(logits, batch.tgt_out, pad_id=model.config.pad_id)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    return loss.item()

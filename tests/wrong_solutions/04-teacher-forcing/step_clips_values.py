# replaces: train_step
# fails: test_train_step_update
# Clips each gradient entry to [-clip, clip] instead of the norm of the whole gradient.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss = masked_cross_entropy(logits, batch.tgt_out, pad_id=model.config.pad_id)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_value_(model.parameters(), clip)
    optimizer.step()
    return loss.item()

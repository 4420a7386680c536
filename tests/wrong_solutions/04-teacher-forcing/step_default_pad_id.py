# replaces: train_step
# fails: test_train_step_loss
# Uses the default PAD_ID instead of the model's config.pad_id.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss = masked_cross_entropy(logits, batch.tgt_out, pad_id=PAD_ID)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()

# replaces: train_step
# fails: test_train_step_update
# Never clears the gradients: each step adds this batch's gradient to all the previous ones.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss = masked_cross_entropy(logits, batch.tgt_out, pad_id=model.config.pad_id)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()

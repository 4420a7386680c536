# replaces: train_step
# fails: test_train_step_loss
# Feeds the whole tgt and predicts tgt itself: the decoder sees the word it must predict.
def train_step(model, batch, optimizer, clip):
    logits = model(batch.src, batch.src_lengths, batch.tgt)
    loss = masked_cross_entropy(logits, batch.tgt, pad_id=model.config.pad_id)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()

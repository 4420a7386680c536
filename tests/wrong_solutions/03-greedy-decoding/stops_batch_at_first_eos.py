# replaces: greedy
# fails: test_batch_stopping
# Stops the whole batch as soon as ANY sequence writes <eos>: the others are cut short.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    B = src.size(0)
    state = model.encode(src, src_lengths)
    prev = torch.full((B,), bos_id, dtype=torch.long)
    lengths = torch.zeros(B, dtype=torch.long)
    steps = []
    for _ in range(max_len):
        logits, state = model.decode_step(prev, state)
        next_tokens = logits.argmax(-1)
        lengths += 1
        steps.append(next_tokens)
        prev = next_tokens
        if (next_tokens == eos_id).any():
            break
    return torch.stack(steps, dim=1), lengths

# replaces: greedy
# fails: test_batch_stopping
# Recomputes `finished` from this step's token only: a row is "finished" for one step, then writes again.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    B = src.size(0)
    state = model.encode(src, src_lengths)
    prev = torch.full((B,), bos_id, dtype=torch.long)
    finished = torch.zeros(B, dtype=torch.bool)
    lengths = torch.zeros(B, dtype=torch.long)
    steps = []
    for _ in range(max_len):
        logits, state = model.decode_step(prev, state)
        next_tokens = logits.argmax(-1).masked_fill(finished, pad_id)
        lengths += ~finished
        finished = next_tokens == eos_id
        steps.append(next_tokens)
        prev = next_tokens
        if finished.all():
            break
    return torch.stack(steps, dim=1), lengths

# replaces: greedy
# fails: test_feeds_back
# Feeds <bos> at every step instead of the token just chosen.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    B = src.size(0)
    state = model.encode(src, src_lengths)
    start = torch.full((B,), bos_id, dtype=torch.long)
    finished = torch.zeros(B, dtype=torch.bool)
    lengths = torch.zeros(B, dtype=torch.long)
    steps = []
    for _ in range(max_len):
        logits, state = model.decode_step(start, state)
        next_tokens = logits.argmax(-1).masked_fill(finished, pad_id)
        lengths += ~finished
        finished |= next_tokens == eos_id
        steps.append(next_tokens)
        if finished.all():
            break
    return torch.stack(steps, dim=1), lengths

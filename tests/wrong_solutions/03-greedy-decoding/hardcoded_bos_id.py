# replaces: greedy
# fails: test_feeds_back
# Starts every row from the default BOS_ID constant instead of the bos_id it was given.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    B = src.size(0)
    state = model.encode(src, src_lengths)
    prev = torch.full((B,), BOS_ID, dtype=torch.long, device=src.device)
    finished = torch.zeros(B, dtype=torch.bool, device=src.device)
    lengths = torch.zeros(B, dtype=torch.long, device=src.device)
    steps = []
    for _ in range(max_len):
        logits, state = model.decode_step(prev, state)
        next_tokens = logits.argmax(dim=-1).masked_fill(finished, pad_id)
        lengths += ~finished
        finished |= next_tokens == eos_id
        steps.append(next_tokens)
        prev = next_tokens
        if finished.all():
            break
    return torch.stack(steps, dim=1), lengths

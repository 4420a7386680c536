# replaces: greedy
# fails: test_matches_library
# Encodes every source as if it had no padding (length = padded width): padding leaks into the context vector.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    B = src.size(0)
    state = model.encode(src, torch.full((B,), src.size(1), dtype=torch.long))
    prev = torch.full((B,), bos_id, dtype=torch.long)
    finished = torch.zeros(B, dtype=torch.bool)
    lengths = torch.zeros(B, dtype=torch.long)
    steps = []
    for _ in range(max_len):
        logits, state = model.decode_step(prev, state)
        next_tokens = logits.argmax(-1).masked_fill(finished, pad_id)
        lengths += ~finished
        finished |= next_tokens == eos_id
        steps.append(next_tokens)
        prev = next_tokens
        if finished.all():
            break
    return torch.stack(steps, dim=1), lengths

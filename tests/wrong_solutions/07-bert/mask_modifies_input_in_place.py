# replaces: mask_tokens
# fails: test_mask_tokens
# Writes [MASK] and the random ids into input_ids itself: the caller's batch is destroyed.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(first_ordinary_id, vocab_size, input_ids.shape, generator=generator)
    input_ids[chosen & (action < 0.8)] = mask_id
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    input_ids[to_random] = random_ids[to_random]
    return input_ids, labels

# replaces: mask_tokens
# fails: test_mask_tokens
# Off by one: draws the random ids with randint(first_ordinary_id, vocab_size - 1), so the last id of the
# vocabulary is never drawn.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(first_ordinary_id, vocab_size - 1, input_ids.shape, generator=generator)
    masked_ids = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    masked_ids = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, masked_ids)
    return masked_ids, labels

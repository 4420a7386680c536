# replaces: mask_tokens
# fails: test_mask_tokens
# Draws the random ids from the whole vocabulary and clamps them up to first_ordinary_id: no special id,
# but first_ordinary_id comes out far more often than the others (not uniform).
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(0, vocab_size, input_ids.shape, generator=generator).clamp(min=first_ordinary_id)
    masked_ids = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    masked_ids = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, masked_ids)
    return masked_ids, labels

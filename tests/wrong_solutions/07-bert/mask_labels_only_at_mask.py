# replaces: mask_tokens
# fails: test_mask_tokens
# Gives a label only where [MASK] was written: the random and the unchanged 10 % are chosen too, but get -100.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special_mask
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(first_ordinary_id, vocab_size, input_ids.shape, generator=generator)
    masked_ids = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    masked_ids = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, masked_ids)
    labels = torch.where(chosen & (action < 0.8), input_ids, torch.full_like(input_ids, -100))
    return masked_ids, labels

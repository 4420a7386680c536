# replaces: mask_tokens
# fails: test_mask_tokens
# Decides what is special from the ids (below first_ordinary_id) instead of special_mask: positions the caller
# marks are chosen anyway.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    special = input_ids < first_ordinary_id
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(first_ordinary_id, vocab_size, input_ids.shape, generator=generator)
    masked_ids = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    masked_ids = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, masked_ids)
    return masked_ids, labels

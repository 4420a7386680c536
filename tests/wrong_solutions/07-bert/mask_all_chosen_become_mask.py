# replaces: mask_tokens
# fails: test_mask_tokens
# Replaces every chosen token with [MASK]: no random 10 %, no unchanged 10 %.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < rate) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    masked_ids = torch.where(chosen, torch.full_like(input_ids, mask_id), input_ids)
    return masked_ids, labels

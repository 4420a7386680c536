# replaces: mask_tokens
# fails: test_mask_tokens
# Chooses exactly round(rate * n) of the n ordinary positions of every row (BERT's original script), not each
# position independently with probability rate.
def mask_tokens(input_ids, special_mask, mask_id, vocab_size, rate=0.15, first_ordinary_id=5, generator=None):
    scores = torch.rand(input_ids.shape, generator=generator).masked_fill(special_mask, 2.0)
    counts = torch.round((~special_mask).sum(dim=1) * rate).long()
    ranks = scores.argsort(dim=1).argsort(dim=1)
    chosen = (ranks < counts[:, None]) & ~special_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(first_ordinary_id, vocab_size, input_ids.shape, generator=generator)
    masked_ids = torch.where(chosen & (action < 0.8), torch.full_like(input_ids, mask_id), input_ids)
    masked_ids = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, masked_ids)
    return masked_ids, labels

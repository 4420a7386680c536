# replaces: masked_ce
# fails: test_masked_ce_padding
# Masks the given pad_id and also the default padding id 0, so with another pad_id the real word 0 is dropped.
def masked_cross_entropy(logits, targets, pad_id=PAD_ID):
    log_probs = logits.log_softmax(dim=-1)
    nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    mask = (targets != pad_id) & (targets != PAD_ID)
    return torch.where(mask, nll, 0.0).sum() / mask.sum()

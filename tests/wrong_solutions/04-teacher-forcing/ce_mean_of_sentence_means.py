# replaces: masked_ce
# fails: test_masked_ce_values
# J = (1/T) Σ_t J_t per sentence, then the mean over sentences: a short sentence's tokens weigh more.
def masked_cross_entropy(logits, targets, pad_id=PAD_ID):
    nll = -logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T)
    mask = (targets != pad_id).float()
    return ((nll * mask).sum(dim=1) / mask.sum(dim=1)).mean()

# replaces: masked_ce
# fails: test_masked_ce_padding
# Ignores the pad_id argument and always masks id 0.
def masked_cross_entropy(logits, targets, pad_id=PAD_ID):
    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0)

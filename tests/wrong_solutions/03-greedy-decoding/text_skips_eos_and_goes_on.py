# replaces: ids_to_text
# fails: test_ids_to_text
# Drops every special token, <eos> included, instead of stopping at the first <eos>.
def ids_to_text(ids, itos, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
    return word_detokenize(itos[i] for i in ids if i not in (bos_id, eos_id, pad_id))

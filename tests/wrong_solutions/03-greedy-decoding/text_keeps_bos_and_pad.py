# replaces: ids_to_text
# fails: test_ids_to_text
# Cuts at the first <eos> but keeps <pad> and <bos> as words.
def ids_to_text(ids, itos, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
    if eos_id in ids:
        ids = ids[: ids.index(eos_id)]
    return word_detokenize(itos[i] for i in ids)

# replaces: encode_pair
# fails: test_encode_pair
# Writes BERT's ids 101, 102, 0 and 100 for [CLS], [SEP], [PAD] and [UNK]: wrong for any other vocabulary.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    needed = len(tokens_a) + len(tokens_b) + 3
    if needed > max_len:
        raise ValueError(f"the pair needs {needed} positions, more than max_len {max_len}")
    padding = max_len - needed
    ids_a = [vocab.get(token, 100) for token in tokens_a]
    ids_b = [vocab.get(token, 100) for token in tokens_b]
    return {
        "input_ids": [101, *ids_a, 102, *ids_b, 102] + [0] * padding,
        "token_type_ids": [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1) + [0] * padding,
        "attention_mask": [1] * needed + [0] * padding,
    }

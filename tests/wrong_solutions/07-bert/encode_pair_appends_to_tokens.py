# replaces: encode_pair
# fails: test_encode_pair
# Adds [CLS] and [SEP] to the caller's lists (insert, append) instead of building a new one:
# tokens_a and tokens_b change, and a second call sees them twice.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    tokens_a.insert(0, "[CLS]")
    tokens_a.append("[SEP]")
    tokens_b.append("[SEP]")
    tokens = tokens_a + tokens_b
    if len(tokens) > max_len:
        raise ValueError(f"the pair needs {len(tokens)} positions, more than max_len {max_len}")
    padding = max_len - len(tokens)
    unk = vocab["[UNK]"]
    return {
        "input_ids": [vocab.get(token, unk) for token in tokens] + [vocab["[PAD]"]] * padding,
        "token_type_ids": [0] * len(tokens_a) + [1] * len(tokens_b) + [0] * padding,
        "attention_mask": [1] * len(tokens) + [0] * padding,
    }

# replaces: encode_pair
# fails: test_encode_pair
# Gives every position segment 0: BERT cannot tell sentence B from sentence A.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    tokens = ["[CLS]", *tokens_a, "[SEP]", *tokens_b, "[SEP]"]
    if len(tokens) > max_len:
        raise ValueError(f"the pair needs {len(tokens)} positions, more than max_len {max_len}")
    padding = max_len - len(tokens)
    unk = vocab["[UNK]"]
    return {
        "input_ids": [vocab.get(token, unk) for token in tokens] + [vocab["[PAD]"]] * padding,
        "token_type_ids": [0] * max_len,
        "attention_mask": [1] * len(tokens) + [0] * padding,
    }

# replaces: encode_pair
# fails: test_encode_pair
# Lets segment B run on into the padding: token_type_ids are 1 from B to the end.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    tokens = ["[CLS]", *tokens_a, "[SEP]", *tokens_b, "[SEP]"]
    if len(tokens) > max_len:
        raise ValueError(f"the pair needs {len(tokens)} positions, more than max_len {max_len}")
    padding = max_len - len(tokens)
    unk = vocab["[UNK]"]
    return {
        "input_ids": [vocab.get(token, unk) for token in tokens] + [vocab["[PAD]"]] * padding,
        "token_type_ids": [0] * (len(tokens_a) + 2) + [1] * (max_len - len(tokens_a) - 2),
        "attention_mask": [1] * len(tokens) + [0] * padding,
    }

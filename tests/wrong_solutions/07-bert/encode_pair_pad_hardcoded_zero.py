# replaces: encode_pair
# fails: test_encode_pair
# Pads with 0, BERT's [PAD] id, instead of looking [PAD] up in vocab: wrong for a vocabulary that numbers it otherwise.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    tokens = ["[CLS]", *tokens_a, "[SEP]", *tokens_b, "[SEP]"]
    if len(tokens) > max_len:
        raise ValueError(f"the pair needs {len(tokens)} positions, more than max_len {max_len}")
    padding = max_len - len(tokens)
    unk = vocab["[UNK]"]
    return {
        "input_ids": [vocab.get(token, unk) for token in tokens] + [0] * padding,
        "token_type_ids": [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1) + [0] * padding,
        "attention_mask": [1] * len(tokens) + [0] * padding,
    }

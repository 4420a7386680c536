# replaces: encode_pair
# fails: test_encode_pair
# Cuts a pair that does not fit to max_len without a word: sentence B and the last [SEP] are lost.
def encode_pair(tokens_a, tokens_b, vocab, max_len):
    tokens = ["[CLS]", *tokens_a, "[SEP]", *tokens_b, "[SEP]"]
    types = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
    tokens, types = tokens[:max_len], types[:max_len]
    padding = max_len - len(tokens)
    unk = vocab["[UNK]"]
    return {
        "input_ids": [vocab.get(token, unk) for token in tokens] + [vocab["[PAD]"]] * padding,
        "token_type_ids": types + [0] * padding,
        "attention_mask": [1] * len(tokens) + [0] * padding,
    }

# replaces: tokenize
# fails: test_tokenize
# Skips the basic tokenizer: lowercases and splits on spaces, so "mat." is one word and punctuation is never split off.
def tokenize(text, vocab, lowercase=True):
    if lowercase:
        text = text.lower()
    return [piece for word in text.split() for piece in wordpiece(word, vocab)]

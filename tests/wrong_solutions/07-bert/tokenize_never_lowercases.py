# replaces: tokenize
# fails: test_tokenize
# Always keeps the case, as for a cased vocabulary: "The" is not in the uncased vocabulary.
def tokenize(text, vocab, lowercase=True):
    return [piece for word in basic_tokenize(text, lowercase=False) for piece in wordpiece(word, vocab)]

# replaces: embed
# fails: test_embed
# vocab.encode without unk=True raises on a word the vocabulary has never seen.
def embed(text, vocab, embedding):
    tokens = word_tokenize(text)
    ids = torch.tensor(vocab.encode(tokens), dtype=torch.long)
    return tokens, ids, embedding(ids)

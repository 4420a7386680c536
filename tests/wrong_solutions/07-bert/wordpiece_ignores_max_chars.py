# replaces: wordpiece
# fails: test_wordpiece
# Never checks max_chars: a word of 101 characters is split into pieces instead of becoming [UNK].
def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:
            return [unk]
        pieces.append(piece)
        start = end
    return pieces

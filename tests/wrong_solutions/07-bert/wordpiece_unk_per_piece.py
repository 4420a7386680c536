# replaces: wordpiece
# fails: test_wordpiece
# Emits [UNK] for one character it cannot cover and goes on, instead of making the whole word one [UNK].
def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:
            piece, end = unk, start + 1
        pieces.append(piece)
        start = end
    return pieces

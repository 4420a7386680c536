# replaces: nsp_pairs
# fails: test_nsp_pairs
# Swaps the labels: 1 for a sentence from another document, 0 for the true next sentence.
def nsp_pairs(documents, seed=0):
    filled = [d for d, document in enumerate(documents) if document]
    if len(filled) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents")
    rng = random.Random(seed)
    pairs = []
    for d, document in enumerate(documents):
        others = [j for j in filled if j != d]
        for a, b in zip(document, document[1:]):
            if rng.random() < 0.5:
                pairs.append((a, b, 0))
            else:
                pairs.append((a, rng.choice(documents[rng.choice(others)]), 1))
    return pairs

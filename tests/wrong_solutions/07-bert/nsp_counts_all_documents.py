# replaces: nsp_pairs
# fails: test_nsp_pairs
# Counts the documents, not the non-empty ones: with one real document and an empty one it crashes or returns pairs.
def nsp_pairs(documents, seed=0):
    if len(documents) < 2:
        raise ValueError("next-sentence pairs need at least two documents")
    rng = random.Random(seed)
    pairs = []
    for d, document in enumerate(documents):
        others = [j for j, other in enumerate(documents) if j != d and other]
        for a, b in zip(document, document[1:]):
            if rng.random() < 0.5:
                pairs.append((a, b, 1))
            else:
                pairs.append((a, rng.choice(documents[rng.choice(others)]), 0))
    return pairs

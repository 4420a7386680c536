# replaces: nsp_pairs
# fails: test_nsp_pairs
# Takes the NotNext sentence from A's own document, so the two classes differ only in order, not in topic.
def nsp_pairs(documents, seed=0):
    if sum(1 for document in documents if document) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents")
    rng = random.Random(seed)
    pairs = []
    for document in documents:
        for a, b in zip(document, document[1:]):
            if rng.random() < 0.5:
                pairs.append((a, b, 1))
            else:
                pairs.append((a, rng.choice(document), 0))
    return pairs

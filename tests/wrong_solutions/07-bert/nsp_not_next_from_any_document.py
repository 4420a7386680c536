# replaces: nsp_pairs
# fails: test_nsp_pairs
# Draws the NotNext sentence from all sentences, A's own document included: some "NotNext" pairs are from one document.
def nsp_pairs(documents, seed=0):
    if sum(1 for document in documents if document) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents")
    rng = random.Random(seed)
    everything = [sentence for document in documents for sentence in document]
    pairs = []
    for document in documents:
        for a, b in zip(document, document[1:]):
            if rng.random() < 0.5:
                pairs.append((a, b, 1))
            else:
                pairs.append((a, rng.choice(everything), 0))
    return pairs

# replaces: nsp_pairs
# fails: test_nsp_pairs
# Seeds and draws from the global random module: repeatable, but it resets everyone else's random numbers.
def nsp_pairs(documents, seed=0):
    filled = [d for d, document in enumerate(documents) if document]
    if len(filled) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents")
    random.seed(seed)
    pairs = []
    for d, document in enumerate(documents):
        others = [j for j in filled if j != d]
        for a, b in zip(document, document[1:]):
            if random.random() < 0.5:
                pairs.append((a, b, 1))
            else:
                pairs.append((a, random.choice(documents[random.choice(others)]), 0))
    return pairs

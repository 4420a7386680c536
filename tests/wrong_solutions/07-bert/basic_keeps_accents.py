# replaces: basic_tokenize
# fails: test_basic_tokenize
# Lowercases but keeps the accents: "café" is not "cafe", and the uncased vocabulary has no "café".
def is_punctuation(char):
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def basic_tokenize(text, lowercase=True):
    if lowercase:
        text = text.lower()
    tokens = []
    for word in text.split():
        current = ""
        for char in word:
            if is_punctuation(char):
                if current:
                    tokens.append(current)
                tokens.append(char)
                current = ""
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens

# replaces: basic_tokenize
# fails: test_basic_tokenize
# Takes Unicode's punctuation categories (P...) only: $ + < = > ^ ` | ~ are symbols (S...) and stay glued to the words.
def is_punctuation(char):
    return unicodedata.category(char).startswith("P")


def basic_tokenize(text, lowercase=True):
    if lowercase:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(char for char in text if unicodedata.category(char) != "Mn")
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

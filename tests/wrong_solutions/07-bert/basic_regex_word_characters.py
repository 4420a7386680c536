# replaces: basic_tokenize
# fails: test_basic_tokenize
# Splits with the regex \w+|[^\w\s]: \w counts the underscore as a letter, so assert_stmt stays one word.
import re


def is_punctuation(char):
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def basic_tokenize(text, lowercase=True):
    if lowercase:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(char for char in text if unicodedata.category(char) != "Mn")
    return re.findall(r"\w+|[^\w\s]", text)

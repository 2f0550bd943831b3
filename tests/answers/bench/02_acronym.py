import re


def abbreviate(phrase):
    words = re.split(r"[\s-]+", phrase)
    letters = [re.sub(r"[^A-Za-z']", "", word)[:1] for word in words]
    return "".join(letters).upper()

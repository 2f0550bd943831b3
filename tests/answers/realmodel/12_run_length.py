import re
from itertools import groupby


def encode(string):
    return "".join((str(len(run)) if len(run) > 1 else "") + char
                   for char, run in ((c, list(g)) for c, g in groupby(string)))


def decode(string):
    return "".join(char * int(count or 1) for count, char in re.findall(r"(\d*)(\D)", string))

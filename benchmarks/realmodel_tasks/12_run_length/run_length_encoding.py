def encode(string):
    pass


def decode(string):
    pass

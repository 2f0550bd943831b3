def merge(intervals):
    pass


def insert(intervals, new):
    pass

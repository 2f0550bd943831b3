def merge(intervals):
    pairs = [tuple(pair) for pair in intervals]
    for start, end in pairs:
        if end < start:
            raise ValueError(f"interval ({start}, {end}) ends before it starts")
    merged = []
    for start, end in sorted(pairs):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def insert(intervals, new):
    return merge([*intervals, new])

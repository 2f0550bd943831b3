import re

TOKEN = re.compile(r"\s*(?:(\d+\.?\d*|\.\d+)|(.))")


def _tokens(text):
    tokens = []
    for number, other in TOKEN.findall(text):
        if number:
            tokens.append(float(number))
        elif other.strip():
            if other not in "+-*/()":
                raise SyntaxError(f"unexpected {other!r}")
            tokens.append(other)
    return tokens


def evaluate(expression):
    tokens = _tokens(expression)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom():
        token = peek()
        if token is None:
            raise SyntaxError("missing operand")
        if token == "-":
            take()
            return -atom()
        if token == "(":
            take()
            value = sum_()
            if peek() != ")":
                raise SyntaxError("missing )")
            take()
            return value
        if isinstance(token, float):
            return take()
        raise SyntaxError(f"unexpected {token!r}")

    def product():
        value = atom()
        while peek() in ("*", "/"):
            if take() == "*":
                value *= atom()
            else:
                value /= atom()
        return value

    def sum_():
        value = product()
        while peek() in ("+", "-"):
            value = value + product() if take() == "+" else value - product()
        return value

    result = sum_()
    if position != len(tokens):
        raise SyntaxError(f"unexpected {tokens[position]!r}")
    return result

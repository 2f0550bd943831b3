def evaluate(expression):
    pass

import pytest

from calculator import evaluate


@pytest.mark.parametrize("expression, value", [
    ("1", 1), ("1 + 2", 3), ("2 * 3 + 4", 10), ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("10 / 4", 2.5),
    ("8 - 3 - 2", 3), ("16 / 4 / 2", 2), ("-3 + 5", 2), ("-(2 + 3) * 2", -10), ("2 * -3", -6), ("1.5 * 4", 6),
    ("((1))", 1), (" 7-2*(3+1) ", -1),
])
def test_values(expression, value):
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize("expression", ["", "1 +", "(1 + 2", "1 + 2)", "2 * * 3", "3 $ 4", "()"])
def test_malformed(expression):
    with pytest.raises(SyntaxError):
        evaluate(expression)


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        evaluate("1 / (2 - 2)")


def test_no_eval(monkeypatch):
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("eval is not allowed")

    monkeypatch.setattr(builtins, "eval", refuse)
    assert evaluate("6 * 7") == 42

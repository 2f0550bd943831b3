"""What the model is shown: requirements from tree-sitter, the ranked map, the cache, distilled failures, history."""
from __future__ import annotations

from agent.models.budget import estimate_tokens
from agent.context.failures import describe, distill
from agent.context.prompt import first_messages
from agent.context.shrink import fit
from agent.core.python_analysis import PythonAnalyzer
from agent.context.repomap import FactsCache, rank, render
from agent.workspace.snapshot import Workspace
from sandbox.local import LocalSandbox
from tests.conftest import make_repo

SHOP = {
    "src/shop/__init__.py": "",
    "src/shop/cart.py": "from .prices import price\n\n\nclass Cart:\n    def __init__(self):\n        self.items = []\n\n"
                        "    def add(self, name, quantity=1):\n        self.items.append((name, quantity))\n",
    "src/shop/prices.py": "from .tax import VAT\n\n\ndef price(name):\n    return {'apple': 0.5}[name] * (1 + VAT)\n",
    "src/shop/tax.py": "VAT = 0.0\n\n\ndef vat_of(amount):\n    return amount * VAT\n",
    "src/shop/unrelated.py": "def helper():\n    return 42\n",
    "tests/conftest.py": "import pytest\nfrom shop.cart import Cart\n\n\n@pytest.fixture\ndef cart():\n    return Cart()\n",
    "tests/test_cart.py": (
        "import pytest\nfrom shop.cart import Cart, EmptyCart\nfrom shop.receipt import render\n\n\n"
        "def test_total(cart):\n    cart.add('apple', quantity=2)\n    assert cart.total() == 1.0\n\n\n"
        "def test_empty_cart_cannot_check_out():\n    with pytest.raises(EmptyCart, match='nothing to pay'):\n"
        "        Cart().checkout()\n\n\n"
        "def test_receipt(cart):\n    assert render(cart, width=20).startswith('apple')\n"),
}


def run(files):
    box = LocalSandbox()
    box.start(files)
    try:
        return box.run_tests([], 60)
    finally:
        box.close()


def test_the_task_states_what_the_tests_require(tmp_path):
    repo = make_repo(tmp_path / "shop", SHOP)
    workspace = Workspace(repo)
    files = workspace.files()
    baseline = run(files)
    _system, task = first_messages(workspace, baseline, ["tests/test_cart.py"],
                                   message="", edit_format="auto").messages()
    text = task["content"]
    required = text.split("# What the tests require")[1].split("# Test files")[0]
    assert "`shop.cart.Cart`: called with 0 positional arguments; methods used: add(1), checkout(0), total(0)" \
        in required  # a missing method on an existing class, reached through the `cart` fixture's name
    assert '`shop.cart.EmptyCart`: expected to be raised (match=\'nothing to pay\')' in required
    assert "`shop.receipt.render`: called with 1 positional argument, keywords width" in required
    assert "fixture `cart` comes from tests/conftest.py" in required
    assert "\ntests/conftest.py\n```python" in text  # the fixture's file is shown, read-only
    assert "`shop.receipt` → src/shop/receipt.py" in text  # a missing module in a src/ layout
    for path in ("src/shop/cart.py", "src/shop/prices.py"):  # imported, and imported relatively from there
        assert f"\n{path}\n```python" in text


def test_what_the_code_already_has_is_not_listed_again(tmp_path):
    """A stub that defines every name the tests use leaves nothing to list (the test file and the code say it);
    a method its class lacks, a name not written yet, or an exception of the project's own still are. A built-in
    exception the tests expect is theirs to say."""
    tests = ("import pytest\nfrom shapes import Square, area, ShapeError\n\n\n"
             "def test_area():\n    assert area(Square(2)) == 4\n\n\n"
             "def test_side():\n    assert Square(2).side() == 2\n\n\n"
             "def test_bad():\n    with pytest.raises(ValueError):\n        Square(-1)\n\n\n"
             "def test_odd():\n    with pytest.raises(ShapeError):\n        area(None)\n")
    stub = ("class ShapeError(Exception):\n    pass\n\n\nclass Square:\n    def __init__(self, n):\n        pass\n\n"
            "    def side(self):\n        pass\n\n\ndef area(shape):\n    pass\n")
    complete = make_repo(tmp_path / "complete", {"shapes.py": stub, "tests/test_shapes.py": tests})
    workspace = Workspace(complete)
    _system, task = first_messages(workspace, run(workspace.files()), ["tests/test_shapes.py"],
                                   message="", edit_format="auto").messages()
    assert "# What the tests require" not in task["content"] and "raises `ValueError`" not in task["content"]
    lacking = make_repo(tmp_path / "lacking", {"shapes.py": stub.replace("    def side(self):\n        pass\n\n", "")
                                               .replace("class ShapeError(Exception):\n    pass\n\n\n", ""),
                                               "tests/test_shapes.py": tests})
    workspace = Workspace(lacking)
    _system, task = first_messages(workspace, run(workspace.files()), ["tests/test_shapes.py"],
                                   message="", edit_format="auto").messages()
    required = task["content"].split("# What the tests require")[1].split("# Implementation files")[0]
    assert "`shapes.Square`" in required and "side(0)" in required  # the method it lacks
    assert "`shapes.ShapeError`: expected to be raised" in required  # not written yet
    assert "`shapes.area`" not in required and "ValueError" not in required


def test_ranking_follows_the_references_from_the_tests():
    analyzer = PythonAnalyzer.shared()
    sources = {
        "tests/test_a.py": b"from a import run\n\ndef test_run():\n    assert run()\n",
        "a.py": b"from b import step\n\ndef run():\n    return step()\n",
        "b.py": b"def step():\n    return LIMIT\n",
        "c.py": b"LIMIT = 3\n\ndef unused():\n    pass\n",
        "d.py": b"def island():\n    return 1\n",
    }
    facts = {path: analyzer.analyze(source) for path, source in sources.items()}
    ranked = dict(rank(facts, {"tests/test_a.py": 1.0}))
    assert ranked["a.py"] > ranked["b.py"] > ranked["c.py"] > ranked["d.py"] == 0
    text = render(list(rank(facts, {"tests/test_a.py": 1.0})), facts, {"tests/test_a.py"}, 1000)
    assert text.index("a.py:") < text.index("b.py:") < text.index("c.py:")
    assert "d.py" not in text and "def run():" in text and "LIMIT = …" in text
    assert render(list(ranked.items()), facts, set(), 5) == ""  # nothing fits a tiny budget


def test_a_second_run_parses_nothing_unchanged(tmp_path):
    cache_path = tmp_path / "facts.json"
    first = FactsCache(cache_path)
    for path, source in SHOP.items():
        first.facts(path, source.encode())
    first.save()
    second = FactsCache(cache_path)
    facts = {path: second.facts(path, source.encode()) for path, source in SHOP.items()}
    assert second.parsed == 0 and facts["src/shop/cart.py"].definitions[0].name == "Cart"
    second.facts("src/shop/cart.py", b"class Changed:\n    pass\n")
    assert second.parsed == 1


REAL = {
    "calc.py": ("def double(x):\n    return x * 3\n\n\n"
                "def parse(text):\n    try:\n        return int(text)\n    except ValueError as exc:\n"
                "        raise TypeError(f'not a number: {text!r}') from exc\n"),
    "tests/test_calc.py": ("import pytest\nfrom calc import double, parse\n\n\n"
                           "@pytest.mark.parametrize('x', [1, 2, 3])\ndef test_double(x):\n    assert double(x) == 2 * x\n\n\n"
                           "def test_parse():\n    assert parse('x1') == 1\n\n\n"
                           "def test_fine():\n    assert double(0) == 0\n"),
    "tests/test_broken.py": "from calc import missing_name\n",
}


def test_failures_are_distilled_from_real_pytest_output():
    result = run({path: text.encode() for path, text in REAL.items()})
    failing = {case.nodeid: distill(case) for case in result.report.failing}
    rewritten = failing["tests/test_calc.py::test_double[1]"]
    assert rewritten.errors[0] == "assert 3 == 2" or rewritten.errors[0].startswith("assert 3 == (2 * 1)")
    assert rewritten.frames == ("tests/test_calc.py:7 in test_double",)
    chained = failing["tests/test_calc.py::test_parse"]
    assert "calc.py:9 in parse" in chained.frames and chained.exception == "TypeError"
    assert any("ValueError" in line for line in chained.errors) and any("not a number" in line for line in chained.errors)
    assert not any("_pytest" in frame or frame.startswith("/") for frame in chained.frames)
    text = describe(result)
    assert "## tests/test_calc.py::test_double[1] FAILED\n" in text
    assert "double(x) returned 3, but the test expects 2.\nThe test's values: x = 1" in text
    assert "2 more failing the same way:\n- test_double[2]: double(x) → 6 (x = 2), the test expects 4\n" \
           "- test_double[3]: double(x) → 9 (x = 3), the test expects 6" in text  # one block, each input said
    assert "collecting tests/test_broken.py failed" in text and "missing_name" in text
    assert text.count("## ") == 3  # one per cause: the doubling, the parse, the collection error

    fixed = {**REAL, "calc.py": REAL["calc.py"].replace("x * 3", "x * 2")}
    again = run({path: text.encode() for path, text in fixed.items()})
    changes = describe(again, result.report)
    # what the change fixed: a count, the names where they are few
    assert changes.startswith("Now passing: 3 more than before (test_double[1], test_double[2], test_double[3])")


def test_a_budget_drops_the_map_then_the_least_relevant_sources(tmp_path):
    repo = make_repo(tmp_path / "shop", SHOP)
    workspace = Workspace(repo)
    baseline = run(workspace.files())
    prompt = first_messages(workspace, baseline, ["tests/test_cart.py"], message="", edit_format="auto")
    roomy = prompt.messages()
    size = estimate_tokens(roomy)
    assert "src/shop/tax.py:" in roomy[1]["content"]  # reached only through prices.py: in the map
    assert "src/shop/unrelated.py" not in roomy[1]["content"]  # nothing the tests reach: never shown
    seen = []
    for cut in range(0, 400, 4):
        messages = fit(prompt, size - cut).messages()
        text = messages[1]["content"]
        shown = ("src/shop/tax.py:" in text, "\nsrc/shop/prices.py\n```" in text, "\nsrc/shop/cart.py\n```" in text)
        if not seen or seen[-1] != shown:
            seen.append(shown)
        if any(shown):
            assert estimate_tokens(messages) <= size - cut
    # the map goes first, then the least relevant source file, then the next
    assert seen == [(True, True, True), (False, True, True), (False, False, True), (False, False, False)]

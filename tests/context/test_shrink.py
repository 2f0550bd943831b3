"""Shrinking works on the prompt's structure: what goes, in which order, and that the rest stays whole."""
from agent.context.history import Attempt
from agent.context.prompt import Now, feedback_message, first_messages
from agent.context.shrink import fit, shrink
from agent.workspace.edits import EditOutcome
from agent.workspace.snapshot import Workspace
from sandbox import RunResult
from sandbox.results import TestCase, TestReport
from tests.conftest import make_repo


def red(failures: int, lines: int) -> RunResult:
    cases = [TestCase(f"tests/test_cart.py::test_{n}", "failed", f"ValueError: case {n}",
                      "\n".join([f"src/shop/cart.py:{n + 1}: in total", *(f"E   line {i}" for i in range(lines))]))
             for n in range(failures)]
    report = TestReport(tests={case.nodeid: case for case in cases}, collected=tuple(c.nodeid for c in cases),
                        exitstatus=1)
    return RunResult(1, False, "", report, 0.1)


def kinds(prompt) -> tuple:
    task = prompt.messages()[1]["content"]
    return ("Attempt 1" in task, "src/shop/tax.py:" in task, "return vat(x)" in task, "return 0" in task,
            "line 45" not in task, "more failing tests" in task)


def later(workspace: Workspace, path: str, first: RunResult, now: RunResult, changed: str):
    """The prompt of a third step: two attempts behind it, the last one's edits applied."""
    attempts = (Attempt(1, (changed,), "", "5 failed"),)
    return first_messages(workspace, first, [path], message="", edit_format="auto",
                          now=Now(now, None, attempts, feedback_message(EditOutcome(found=1, changed=[changed]))))


def test_the_map_sources_detail_failures_then_the_history_go_in_that_order(tmp_path):
    repo = make_repo(tmp_path / "shop", {
        "src/shop/__init__.py": "", "src/shop/cart.py": "from .prices import price\n\ndef total(x):\n    return 0\n",
        "src/shop/prices.py": "from .tax import vat\n\ndef price(x):\n    return vat(x)\n",
        "src/shop/tax.py": "def vat(x):\n    return x\n",
        "tests/test_cart.py": "from shop.cart import total\n\ndef test_0():\n    assert total(1) == 1\n"})
    prompt = later(Workspace(repo), "tests/test_cart.py", red(1, 5), red(5, 60), "src/shop/cart.py")
    steps = []
    while prompt is not None:
        steps.append(prompt)
        prompt = shrink(prompt)
    assert [kinds(step) for step in steps] == [
        (True, True, True, True, False, False),
        (True, False, True, True, False, False),  # the map
        (True, False, False, True, False, False),  # the least relevant source file, then the next
        (True, False, False, False, False, False),
        (True, False, False, False, False, False),  # (the package's empty __init__.py)
        (True, False, False, False, True, False),  # each failure's detail cut to its head and tail
        (True, False, False, False, True, True),  # only the first few failures
        (False, False, False, False, True, True),  # the summaries of earlier attempts
    ]
    last = steps[6].messages()[-1]["content"]
    assert "line 59" in last and last.count("## ") == 3 and "2 more failing tests" in last
    # what always stays: the rules, the tests, the failures' headings, what became of the last answer
    final = steps[-1].messages()
    assert final[0] == steps[0].messages()[0] and "def test_0" in final[1]["content"]
    assert "tests/test_cart.py::test_0 FAILED" in final[1]["content"] and "Applied: src/shop/cart.py" in final[1]["content"]


def test_fit_stops_as_soon_as_the_prompt_is_within_the_budget(tmp_path):
    repo = make_repo(tmp_path / "r", {"calc.py": "def f():\n    return 0\n",
                                      "tests/test_calc.py": "from calc import f\n\ndef test_0():\n    assert f()\n"})
    prompt = later(Workspace(repo), "tests/test_calc.py", red(1, 5), red(5, 60), "calc.py")
    assert fit(prompt, 10 ** 6) is prompt
    small = fit(prompt, 1)
    assert shrink(small) is None  # as small as it gets


def test_each_shrink_is_smaller_even_where_a_stage_has_nothing_to_cut(tmp_path):
    """No map to drop, no source file, short failures: the next smaller prompt is the one without the earlier
    attempts, never one that reads the same (a server that said the prompt overflows would get it again)."""
    repo = make_repo(tmp_path / "r", {"tests/test_calc.py": "from calc import f\n\ndef test_0():\n    assert f()\n"})
    prompt = later(Workspace(repo), "tests/test_calc.py", red(1, 2), red(1, 2), "calc.py")
    sizes = []
    while prompt is not None:
        sizes.append(sum(len(message["content"]) for message in prompt.messages()))
        prompt = shrink(prompt)
    assert sizes == sorted(set(sizes), reverse=True) and len(sizes) == 2

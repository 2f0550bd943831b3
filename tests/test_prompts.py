from dataclasses import replace

import pytest

from agent.context.prompt import Now, feedback_message, first_messages
from agent.workspace.edits import EditOutcome, Miss, Refusal
from agent.core.prompting import PromptError, render
from agent.workspace.snapshot import Workspace
from sandbox import RunResult
from sandbox.results import CollectError, TestCase, TestReport
from tests.conftest import make_repo


def test_rendering_is_strict_both_ways():
    assert render("cut.md", count=3).strip() == "[... 3 lines cut ...]"
    with pytest.raises(PromptError, match="missing values"):
        render("cut.md")
    with pytest.raises(PromptError, match="unused values"):
        render("cut.md", count=3, extra=1)
    # a loop's own names are the template's; the list it runs over is a value like any other
    assert render("lost_tests.md", tests=["a", "b"]).endswith("- a\n- b\n")
    with pytest.raises(PromptError, match=r"missing values \['tests'\]"):
        render("lost_tests.md")


def red(tests=(), errors=()):
    report = TestReport(tests={t.nodeid: t for t in tests}, collected=tuple(t.nodeid for t in tests),
                        collect_errors=tuple(errors), exitstatus=1)
    return RunResult(1, False, "", report, 0.1)


def test_first_prompt_holds_tests_imported_sources_missing_modules_and_failures(tmp_path):
    root = make_repo(tmp_path / "r", {
        "src/shop/__init__.py": "", "src/shop/cart.py": "from .prices import price\n",
        "src/shop/prices.py": "def price(x):\n    return 1\n", "src/shop/unrelated.py": "U = 1\n",
        "tests/test_cart.py": "from shop.cart import Cart\nfrom shop.tax import vat\n",
    })
    error = CollectError("tests/test_cart.py", "ImportError", ("ImportError",), "cannot import name 'Cart'",
                         None, "tests/test_cart.py", 1, "E   ImportError: cannot import name 'Cart'")
    ws = Workspace(root)
    system, task = first_messages(ws, red(errors=[error]), ["tests/test_cart.py"],
                                  message="keep it simple", edit_format="auto").messages()
    assert system["role"] == "system" and "The tests are the specification" in system["content"]
    text = task["content"]
    # the format comes last, short, with an example naming the task's own file (never a made-up path to copy)
    assert text.rstrip().endswith("```") and "whole new content" in text.split("# Test results now")[1]
    assert "src/shop/tax.py\n```python" in text and "shapes" not in text + system["content"]
    assert "keep it simple" in text
    # each fact once: the failing tests are not listed by name apart from their failures
    assert text.count("tests/test_cart.py") == 2  # the file's block and its collection error
    for path in ("tests/test_cart.py", "src/shop/__init__.py", "src/shop/cart.py", "src/shop/prices.py"):
        assert f"\n{path}\n```" in text
    assert "src/shop/unrelated.py" not in text  # nothing the tests reach
    assert "`shop.tax` → src/shop/tax.py" in text
    assert "cannot import name 'Cart'" in text


def test_large_files_switch_the_prompt_to_search_replace(tmp_path):
    root = make_repo(tmp_path / "r", {"big.py": "x = 1\n" * 400, "tests/test_big.py": "import big\n"})
    case = TestCase("tests/test_big.py::test", "failed", "assert 1 == 2", "E assert 1 == 2")
    _, task = first_messages(Workspace(root), red([case]), ["tests/test_big.py"],
                             message="", edit_format="auto").messages()
    assert "SEARCH/REPLACE" in task["content"] and "<lines copied from big.py>" in task["content"]


def test_feedback_reports_refusals_misses_and_the_state_follows_the_code_as_it_is_now(tmp_path):
    outcome = EditOutcome(found=2, changed=["a.py"], refused=[Refusal("tests/test_a.py", "test files are read-only")],
                          misses=[Miss(2, "a.py", "its SEARCH part does not match the file", "def f():", 3)])
    text = feedback_message(outcome)
    assert "Applied: a.py" in text
    assert "The edit to tests/test_a.py was refused: test files are read-only" in text
    assert "SEARCH/REPLACE block 2 for a.py was not applied" in text and "(line 3)" in text
    root = make_repo(tmp_path / "r", {"a.py": "def f():\n    return 3\n",
                                      "tests/test_a.py": "from a import f\n\ndef test_f():\n    assert f() == 4\n"})
    case = TestCase("tests/test_a.py::test_f", "failed", "assert 3 == 4", "E       assert 3 == 4")
    first = TestCase("tests/test_a.py::test_f", "failed", "assert None == 4", "E       assert None == 4")
    prompt = first_messages(Workspace(root), red([first]), ["tests/test_a.py"],
                            message="", edit_format="auto", now=Now(red([case]),
                            feedback=text))
    user = prompt.messages()[1]["content"]
    assert "return 3" in user and "assert None" not in user  # the code and its results now, not the first ones
    assert user.index("return 3") < user.index("# Test results now: 1 failed") < user.index("assert 3 == 4") \
        < user.index("Applied: a.py") < user.index("Fix the remaining failures")
    assert prompt.told.startswith("# Test results now") and "def test_f" not in prompt.told


def test_an_answer_without_edits_is_told_so():
    assert "No edits were found" in feedback_message(EditOutcome())


def test_an_answer_that_repeats_the_failing_code_is_told_so():
    assert "repeated the code word for word" in feedback_message(EditOutcome(found=1))
    assert "repeated" not in feedback_message(EditOutcome(found=1, changed=["a.py"]))


def test_a_template_that_prints_a_list_whole_is_an_error_not_a_repr(tmp_path):
    """A template that forgot its loop would show the model Python's repr of the data; it is refused instead,
    the user's own templates included (their error names the file)."""
    from agent.core.errors import ConfigError
    from agent.core.prompting import use_folder

    (tmp_path / "lost_tests.md").write_text("Lost: {{ tests }}\n")
    use_folder(tmp_path)
    try:
        with pytest.raises(ConfigError, match=r"lost_tests.md: it prints a list whole"):
            render("lost_tests.md", tests=["a"])
        (tmp_path / "lost_tests.md").write_text("Lost: ${tests}\n")  # the syntax of an older makegreen
        with pytest.raises(ConfigError, match=r"templates are Jinja now, write \{\{ tests \}\}"):
            render("lost_tests.md", tests=["a"])
        (tmp_path / "lost_tests.md").write_text("Lost: {{ tests|join(', ') }}\n")
        assert render("lost_tests.md", tests=["a", "b"]) == "Lost: a, b\n"
    finally:
        use_folder(None)


def test_the_projects_own_text_is_shown_as_written_never_read_as_a_template(tmp_path):
    """Test files, failure messages and the model's answers are values: Jinja syntax in them is shown verbatim,
    and nothing in them can reach the renderer's objects."""
    hostile = "{{ ''.__class__.__mro__ }}{% for x in range(3) %}{{ x }}{% endfor %}{# gone? #}${dollar}"
    root = make_repo(tmp_path / "r", {"calc.py": "", "tests/test_calc.py": f"# {hostile}\nfrom calc import f\n"})
    case = TestCase("tests/test_calc.py::test_f", "failed", f"AssertionError: {hostile}", f"E       {hostile}")
    prompt = first_messages(Workspace(root), red([case]), ["tests/test_calc.py"], message=hostile, edit_format="auto")
    assert prompt.messages()[1]["content"].count(hostile) == 3  # the message, the test file, the failure
    note = feedback_message(EditOutcome(found=1, changed=["calc.py"]), notes=[hostile])
    later = first_messages(Workspace(root), red([case]), ["tests/test_calc.py"], message=hostile, edit_format="auto",
                           now=Now(red([case]), feedback=note))
    assert later.messages()[1]["content"].count(hostile) == 4  # and a note that quotes it


def test_a_line_that_repeats_itself_is_shown_the_code_as_it_was_before_any_attempt(tmp_path):
    """Shown the code it wrote, the real model writes it again word for word, whatever it is asked: the stuck
    prompt shows the original (the best code's results stay), and asks for the file anew."""
    root = make_repo(tmp_path / "r", {"a.py": "def f():\n    pass\n",
                                      "tests/test_a.py": "from a import f\n\ndef test_f():\n    assert f() == 4\n"})
    workspace = Workspace(root)
    workspace.write({"a.py": b"def f():\n    return 3\n"})
    case = TestCase("tests/test_a.py::test_f", "failed", "assert 3 == 4", "E       assert 3 == 4")
    stub = TestCase("tests/test_a.py::test_f", "failed", "assert None == 4", "E       assert None == 4")
    now = Now(red([case]), feedback=feedback_message(EditOutcome(found=1)), stuck=True)
    shown = first_messages(workspace, red([stub]), ["tests/test_a.py"],
                           message="", edit_format="auto", now=now).messages()[1]["content"]
    assert "return 3" in shown and "# Test results now: 1 failed" in shown
    anew = first_messages(workspace, red([stub]), ["tests/test_a.py"], message="", edit_format="auto",
                          now=replace(now, anew=True)).messages()[1]["content"]
    assert "return 3" not in anew and "def f():\n    pass" in anew
    assert "# Test results of the best code so far (not shown): 1 failed" in anew and "assert 3 == 4" in anew
    assert "write the file anew, another way" in anew and "work through one failing case by hand" in anew
    # an applied change is never said to be the code shown, where the code shown is the original
    applied = EditOutcome(found=1, changed=["a.py"])
    assert "are the code as it is now" in feedback_message(applied)
    assert "Applied: a.py." in feedback_message(applied, anew=True)


def test_a_first_request_against_a_stub_leaves_out_failures_that_only_say_none(tmp_path):
    """Every call giving the stub's None says nothing the test file does not; shown it, the local default model
    wrote worse first answers (docs/bench.md). Left out of the first request only, and only where that is all
    the failures say."""
    from sandbox.results import FailureFacts

    root = make_repo(tmp_path / "r", {"a.py": "def f(x):\n    pass\n", "tests/test_a.py": (
        "from a import f\n\ndef test_one():\n    assert f(1) == 2\n\ndef test_two():\n    assert f(2) == 4\n")})

    def failing(name: str, arg: int, gave: str) -> TestCase:
        facts = FailureFacts(where="tests/test_a.py:4", statement=f"assert f({arg}) == {arg * 2}",
                             call=f"f({arg})", actual=gave, actual_source=f"f({arg})", expected=str(arg * 2),
                             exception=f"AssertionError: assert {gave} == {arg * 2}")
        return TestCase(f"tests/test_a.py::{name}", "failed", facts.exception, f"E   {facts.exception}",
                        facts=(facts,))

    def user_message(result: RunResult, now: Now | None = None, hidden: bool = False) -> str:
        return first_messages(Workspace(root), result, ["tests/test_a.py"], message="", edit_format="auto",
                              now=now, tests_hidden=hidden).messages()[1]["content"]

    stub = red([failing("test_one", 1, "None"), failing("test_two", 2, "None")])
    first = user_message(stub)
    assert "# Test results" not in first and "None" not in first
    assert "def f(x):\n    pass" in first and "assert f(2) == 4" in first
    assert "Write the implementation so that these tests pass." in first
    # a value of the code's own says something: shown, on the first request too
    wrong = user_message(red([failing("test_one", 1, "3"), failing("test_two", 2, "None")]))
    assert "# Test results now: 2 failed" in wrong and "assert 3 == 2" in wrong and "f(2) → None" in wrong
    # any later request shows the failures, whatever they say
    later = user_message(stub, Now(stub, feedback=feedback_message(EditOutcome(found=1, changed=["a.py"]))))
    assert "# Test results now: 2 failed" in later and "assert None == 2" in later
    # with the tests hidden (--hide-tests) the failures are all the model knows of them: shown
    assert "# Test results now: 2 failed" in user_message(stub, hidden=True)

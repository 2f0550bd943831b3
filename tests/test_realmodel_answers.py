"""What a real small model wrote, recorded from runs against Qwen2.5-Coder-1.5B (tests/fixtures/realmodel): each
answer is read for what it means, its claims judged on evidence, and its copied tests kept out of the code."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.honesty.claims import claimed_contradiction, judge
from agent.workspace.edits import TestGuard, WholeFile, apply_edits, parse_edits
from agent.workspace.snapshot import Workspace
from tests.conftest import EXAMPLES, ROOT

ANSWERS = json.loads((Path(__file__).parent / "fixtures" / "realmodel" / "answers.json").read_text())
TASKS = ROOT / "benchmarks" / "realmodel_tasks"


def suite_of(source: str) -> dict[str, bytes]:
    task = source.split(",")[0]
    if task == "roman":
        return {"tests/test_roman.py": (EXAMPLES / "roman" / "tests" / "test_roman.py").read_bytes()}
    folder = TASKS / task
    return {path.name: path.read_bytes() for path in folder.glob("test_*.py")}


@pytest.mark.parametrize("answer", ANSWERS, ids=[a["source"] for a in ANSWERS])
def test_each_recorded_answer_is_read_for_what_it_means(answer):
    edits = parse_edits(answer["text"], answer["expected_file"])
    assert [[type(edit).__name__, edit.path] for edit in edits] == answer["edits"]
    assert (claimed_contradiction(answer["text"]) is not None) == answer["claim"]


def test_the_model_alone_answers_in_a_bare_block_and_makegreen_takes_it_for_the_one_file():
    alone = [a for a in ANSWERS if a["source"].endswith("the model alone")]
    assert alone and all(a["text"].startswith("```python") for a in alone)
    assert all(a["edits"] == [["WholeFile", a["expected_file"]]] for a in alone)


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a["claim"]], ids=lambda a: a["source"])
def test_no_recorded_claim_of_contradiction_is_confirmed_the_first_time(answer):
    """None of these tasks contradicts itself: the model echoed the instruction. A first claim is fed back."""
    verdict = judge(claimed_contradiction(answer["text"]), suite_of(answer["source"]), challenged=False)
    assert not verdict.confirmed and "That is not confirmed" in verdict.feedback
    assert "CONTRADICTION" not in verdict.feedback  # the word is not repeated to a model that echoes it


def test_tests_appended_to_the_implementation_are_dropped_and_the_code_kept(tmp_path):
    [answer] = [a for a in ANSWERS if a["source"] == "12_run_length, the model alone"]
    tests = suite_of(answer["source"])
    names = {line.split("(")[0][4:] for line in tests["test_run_length_encoding.py"].decode().splitlines()
             if line.startswith("def test_")}
    [edit] = parse_edits(answer["text"], answer["expected_file"])
    outcome = apply_edits(Workspace(tmp_path), [edit], TestGuard(set(tests), names))
    written = outcome.written["run_length_encoding.py"].decode()
    assert outcome.changed == ["run_length_encoding.py"]
    assert "def encode" in written and "def decode" in written and "def test_" not in written


def test_an_answer_that_is_only_the_tests_under_the_modules_name_is_refused(tmp_path):
    [answer] = [a for a in ANSWERS if a["source"] == "13_anagram, makegreen, iteration 4"]
    [edit] = parse_edits(answer["text"], answer["expected_file"])
    assert isinstance(edit, WholeFile)
    guard = TestGuard({"test_anagram.py"}, {"test_no_matches", "test_several_matches_in_order", "test_case_is_ignored",
                                            "test_a_word_is_not_its_own_anagram"})
    outcome = apply_edits(Workspace(tmp_path), [edit], guard)
    assert outcome.changed == [] and "only repeats the tests' own test functions" in outcome.refused[0].reason


def test_a_recorded_real_run_replays_through_the_loop(tmp_path):
    """The real model's three answers on 14_matrix, in order: one test passes; the next answer repeats the code
    word for word, so it is asked again at once, to work the failing case through first, sampling more widely;
    that answer turns everything green."""
    import shutil
    import subprocess

    from tests.conftest import make_repo
    from tests.e2e.test_solve import solve, summary_of
    from tests.scripted_server import Reply, ScriptedServer

    run = json.loads((Path(__file__).parent / "fixtures" / "realmodel" / "matrix_run.json").read_text())
    repo = tmp_path / "matrix"
    shutil.copytree(TASKS / "14_matrix", repo)
    make_repo(repo)
    instructions = (repo / "README.md").read_text()
    with ScriptedServer([Reply(text) for text in run["answers"]]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--max-iterations", "4", "-m", instructions)
    summary = summary_of(result)
    assert result.returncode == 0 and summary["status"] == "green" and summary["iterations"] == 2, result.stderr
    requests = server.chat_requests()
    assert [request.get("temperature") for request in requests] == [None, None, 0.8]  # another question, hotter
    assert "repeated the code word for word" in requests[2]["messages"][-1]["content"]
    assert "work through one failing case by hand" in requests[2]["messages"][-1]["content"]
    check = subprocess.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=repo, capture_output=True)
    assert check.returncode == 0


def recorded(kind: str) -> dict:
    [answer] = [a for a in ANSWERS if f"({kind}" in a["source"]]
    return answer


def test_the_echo_is_named_and_its_copy_of_the_tests_never_applied(tmp_path):
    """The real model went on writing the prompt (# Task, # Test files, made-up failures) with its code inside:
    the prompt's headings it repeated are found, its rewritten test file is refused, its code is read."""
    from agent.context.echo import copies, echoed_headings

    answer = recorded("the echo")
    tests = suite_of(answer["source"])
    prompt = [{"role": "user", "content": "# Task\n\nMake these failing tests pass:\n\n# Test files (read-only)\n\n"
                                          "test_acronym.py\n```python\n# not a heading\n```\n\n# Test results now\n"}]
    assert echoed_headings(answer["text"], prompt) == ["# Task", "# Test files (read-only)", "# Test results now"]
    assert echoed_headings("acronym.py\n```python\n# Task\n```\n", prompt) == []  # one line in code: no echo
    edits, refused = copies(parse_edits(answer["text"], answer["expected_file"]), tests)
    assert refused == []  # its test file was rewritten, not copied: the guard refuses it for where it goes
    outcome = apply_edits(Workspace(tmp_path), edits, TestGuard(set(tests)))
    assert outcome.changed == ["acronym.py"] and [r.path for r in outcome.refused] == ["test_acronym.py"]
    # the tests copied whole under the implementation's name: refused as an echo, whatever the guard says
    copied = [WholeFile("acronym.py", tests["test_acronym.py"].decode())]
    assert copies(copied, tests)[1][0].reason.startswith("it is a copy of test_acronym.py")


def test_a_recorded_echo_is_read_only_up_to_the_expected_block_in_a_real_run(tmp_path):
    """Replayed through makegreen: reading stops where acronym.py's block closes (the rest of the echo is never
    generated), the rewritten test file is refused and the code inside the echo is what gets tested."""
    import shutil

    from tests.conftest import make_repo
    from tests.e2e.test_solve import solve, summary_of
    from tests.scripted_server import Reply, ScriptedServer

    answer = recorded("the echo")
    repo = tmp_path / "acronym"
    shutil.copytree(TASKS / "15_acronym", repo)
    make_repo(repo)
    with ScriptedServer([Reply(answer["text"])]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--max-iterations", "1")
    summary = summary_of(result)
    records = [json.loads(line) for line in (repo / summary["run_dir"] / "trajectory.jsonl").read_text().splitlines()]
    [answered] = [r for r in records if r["type"] == "ModelAnswered"]
    assert answered["stopped"] and answered["text"].rstrip().endswith("```")
    assert "# Elsewhere in the repository" in answer["text"] and "# Elsewhere" not in answered["text"]
    [applied] = [r for r in records if r["type"] == "EditsApplied"]
    assert applied["changed"] == ["acronym.py"] and [r["path"] for r in applied["refused"]] == ["test_acronym.py"]


def test_a_recorded_repeat_asks_for_the_failing_case_worked_through(tmp_path):
    """The real model's bob: its second answer is its first word for word. Asked again at once to work the
    failing case through by hand (the question names the call, what the test expects and what the code gave),
    sampling more widely: asked that greedily, the real model gave the same code back again."""
    import shutil

    from tests.conftest import make_repo
    from tests.e2e.test_solve import solve
    from tests.scripted_server import Reply, ScriptedServer

    answer = recorded("the repeat")
    repo = tmp_path / "bob"
    shutil.copytree(TASKS / "16_bob", repo)
    make_repo(repo)
    with ScriptedServer([Reply(answer["text"])]) as server:
        solve(repo, server, "--json", "--sandbox", "local", "--max-iterations", "2")
        requests = server.chat_requests()
    assert [request.get("temperature") for request in requests][:3] == [None, None, 0.8]
    retry = requests[2]["messages"][-1]["content"]
    assert "repeated the code word for word" in retry and "work through one failing case by hand" in retry
    assert "1. The call: response(\"WHAT'S GOING ON?\")" in retry and "3. What the code does with it" in retry
    assert "2. What the test expects: \"Calm down" in retry and "why it gives 'Whoa, chill out!'" in retry


def test_a_recorded_near_miss_is_shown_with_the_call_and_both_values(tmp_path):
    """The real model's difference of squares had the subtraction the wrong way round: the feedback says which
    call gave which value, and what the test expected."""
    import shutil

    from tests.conftest import make_repo
    from tests.e2e.test_solve import solve
    from tests.scripted_server import Reply, ScriptedServer

    answer = recorded("the near miss")
    repo = tmp_path / "squares"
    shutil.copytree(TASKS / "17_difference_of_squares", repo)
    make_repo(repo)
    with ScriptedServer([Reply(answer["text"])]) as server:
        solve(repo, server, "--json", "--sandbox", "local", "--max-iterations", "2", "--second-draft", "off")
        feedback = server.chat_requests()[1]["messages"][-1]["content"]
    assert "difference_of_squares(10) returned -2640, but the test expects 2640." in feedback

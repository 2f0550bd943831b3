"""The benchmarks run and print their figures (run with `-m slow`; no figure is asserted)."""
import json

import pytest

from tests.conftest import ROOT

from benchmarks import sandbox_overhead


@pytest.mark.slow
def test_sandbox_overhead_prints_its_figures(docker_client, base_image, capsys):
    figures = sandbox_overhead.main(["--repeat", "1"])
    out = capsys.readouterr().out
    assert "tiny     warm" in out and "first red report" in out
    assert set(figures) == {"tiny warm", "tiny cold", "~1 s warm", "~1 s cold", "first red report"}


@pytest.mark.slow
def test_context_size_prints_its_figures(capsys):
    from benchmarks import context_size

    figures = context_size.main(["--padding", "40"])
    assert "ratio padded/small" in capsys.readouterr().out
    assert figures["small"]["touched_in_prompt"] and figures["padded"]["touched_in_prompt"]


@pytest.mark.slow
def test_prompt_size_benchmark_prints_its_figures(capsys):
    from benchmarks import prompt_size

    report = prompt_size.main(["--only", "04_raindrops", "16_bob"])
    assert "median request 1" in capsys.readouterr().out and report["every_test_shown"]["this"]
    assert all(len(row["chars"]) >= 3 and row["status"] != "green" for row in report["rows"]["this"])


@pytest.mark.slow
def test_candidates_benchmark_prints_its_figures(base_image, capsys):
    from benchmarks import candidates

    figures = candidates.main(["--repeat", "1", "--think", "0.5"])
    assert "wall(N=4) / wall(N=1)" in capsys.readouterr().out
    # two rounds of four; a candidate whose next question left before the first green stopped it may add one
    assert 8 <= figures[4]["requests"] < 12 and figures[1]["requests"] == 2


@pytest.mark.slow
def test_bench_suite_benchmark_prints_its_figures(capsys):
    from benchmarks import bench_suite

    figures = bench_suite.main(["--sandbox", "local", "--workers", "2"])
    assert "workers 2:" in capsys.readouterr().out and figures[2]["solved"] == 10


@pytest.mark.slow
def test_hook_check_benchmark_prints_its_figures(base_image, capsys):
    from benchmarks import hook_check

    figures = hook_check.main(["--repeat", "1"])
    assert "the hook's own cost" in capsys.readouterr().out and figures["wall"] > figures["suite"] > 0


@pytest.mark.slow
def test_realmodel_benchmark_compares_three_agents_on_one_server(capsys, tmp_path):
    """The harness itself, against the scripted server: the reference answer for each task, a wrong one first
    for 02_leap (so the model alone fails it and both loops need two iterations)."""
    from benchmarks import realmodel
    from tests.e2e.test_bench import prompt, stub_of, whole
    from tests.scripted_server import ScriptedServer

    tasks = [realmodel.TASKS / name for name in ("01_two_fer", "02_leap")]

    def route(body):
        folder = next(f for f in tasks if stub_of(f) in prompt(body))
        # the naive loop's later requests carry its answers back; makegreen's stand alone, with the attempts so far
        first = not any(message["role"] == "assistant" for message in body["messages"]) and \
            "# Earlier attempts" not in prompt(body)
        if folder.name == "02_leap" and first:  # each agent's first answer is wrong
            return whole(stub_of(folder), "def leap_year(year):\n    return year % 4 == 0\n")
        return whole(stub_of(folder), (ROOT / "tests" / "answers" / "realmodel" / f"{folder.name}.py").read_text())

    with ScriptedServer([], route=route) as server:
        results = realmodel.main(["--base-url", server.url, "--model", "scripted-model", "--sandbox", "local",
                                  "--only", "01_two_fer", "02_leap", "--iterations", "2", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    solved = {(r.agent, r.task): (r.solved, r.iterations) for r in results}
    assert solved[("alone", "02_leap")] == (False, 1) and solved[("naive", "02_leap")] == (True, 2)
    assert solved[("makegreen", "02_leap")] == (True, 2) and solved[("makegreen", "01_two_fer")] == (True, 1)
    assert "| alone | 1 / 2 |" in out and "| naive | 2 / 2 |" in out and "| makegreen | 2 / 2 |" in out
    # what the first answer alone was worth: 02_leap's wrong one passes some of its tests, not all
    first = {(r.agent, r.task): (r.first_passed, r.first_total) for r in results}
    for agent in ("alone", "naive", "makegreen"):
        passed, total = first[(agent, "02_leap")]
        assert 0 < passed < total and first[(agent, "01_two_fer")][0] == first[(agent, "01_two_fer")][1] > 0
    assert "| makegreen | 2 / 2 | 1 / 2 |" in out and ", 1st " in out

    # resumable: a second start with the same folder asks nothing more and reports the same results
    again = realmodel.main(["--base-url", "http://127.0.0.1:9/v1", "--model", "scripted-model", "--sandbox", "local",
                            "--only", "01_two_fer", "02_leap", "--iterations", "2", "--out", str(tmp_path)])
    assert "resuming" in capsys.readouterr().out
    assert [(r.agent, r.task, r.solved) for r in again] == [(r.agent, r.task, r.solved) for r in results]


@pytest.mark.slow
def test_first_request_benchmark_asks_each_shape_and_runs_the_tests_on_each_answer(capsys, tmp_path):
    """Against the scripted server: a right answer only where the request shows no test results, so the shapes
    that keep them score 0 and those that drop them score every test; a second start asks nothing more."""
    from benchmarks import first_request, realmodel
    from tests.e2e.test_bench import whole
    from tests.scripted_server import ScriptedServer

    task = realmodel.TASKS / "02_leap"
    sent = [{"role": "system", "content": "You are makegreen."},
            {"role": "user", "content": "leap.py\n# Test results now: 9 failed\nleap_year(2015) returned None\n\n"
                                        "Write the implementation so that these tests pass."}]
    trajectory = tmp_path / "runs" / "02_leap-makegreen" / "r" / "trajectory.jsonl"
    trajectory.parent.mkdir(parents=True)
    trajectory.write_text(json.dumps({"type": "ModelRequest", "messages": sent}) + "\n")
    right = (ROOT / "tests" / "answers" / "realmodel" / "02_leap.py").read_text()

    def route(body):
        shown = "\n".join(message["content"] for message in body["messages"])
        return whole("leap.py", "def leap_year(year):\n    return None\n" if "# Test results" in shown else right)

    argv = ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out.jsonl"), "--only", "02_leap"]
    with ScriptedServer([], route=route) as server:
        records = first_request.main([*argv, "--base-url", server.url])
    scores = {r["shape"]: (r["passed"], r["total"]) for r in records}
    total = scores["plain"][1]
    assert total > 1 and scores == {"sent": (0, total), "no-system": (0, total), "no-failures": (total, total),
                                    "plain": (total, total)}
    assert f"| no-failures | 1 / 1 | {total} / {total} |" in capsys.readouterr().out
    again = first_request.main([*argv, "--base-url", "http://127.0.0.1:9/v1"])  # nothing left to ask
    assert [(r["shape"], r["passed"]) for r in again] == [(r["shape"], r["passed"]) for r in records]


@pytest.mark.slow
def test_first_request_benchmark_builds_this_checkouts_request_and_changes_one_part_in_each_shape(capsys, tmp_path):
    """Without --runs the first request is built by this checkout's makegreen (a scripted model); each of the four
    shape changes moves one part and keeps every other, and a `# ` comment inside a code block is not a heading."""
    from benchmarks import first_request, realmodel
    from tests.e2e.test_bench import whole
    from tests.scripted_server import ScriptedServer

    task = realmodel.TASKS / "02_leap"
    sent = first_request.built_request(task)
    assert sent[0]["role"] == "system" and "# Test files" in sent[-1]["content"]
    found = {shape: messages[-1]["content"] for shape, messages in first_request.shapes(task, sent).items()}
    assert set(found) == {"sent", "no-system", "ask-first", "code-first", "no-headings", "short-format", "plain"}
    stub = (task / "leap.py").read_text()
    tests = found["sent"][found["sent"].index("import pytest"):].split("```")[0]  # as shown: less held-out cases
    for shape, content in found.items():
        assert stub in content and (shape == "plain" or tests in content), shape
    ask = first_request.ASK
    assert found["ask-first"].startswith(ask + "\n\n# Test files") and found["sent"].index(ask) > 0
    assert found["code-first"].index("# Implementation files") < found["code-first"].index("# Test files")
    assert "\n# " not in found["no-headings"] and ask in found["no-headings"]
    assert found["short-format"].endswith("Answer with the complete new leap.py in one ```python block.\n")
    assert "# How to answer" not in found["short-format"] and "# How to answer" in found["code-first"]

    commented = "# Test files (read-only)\n\nt.py\n```python\n# Implementation files are here\nx = 1\n```\n\n" \
                f"# Implementation files\n\nm.py\n```python\n```\n\n{ask}\n\n# How to answer\n\nm.py\n"
    assert [h for h, _ in first_request.sections(commented)] == ["Test files (read-only)", "Implementation files",
                                                                 "How to answer"]
    assert "# Implementation files are here" in first_request.recast(commented, "m.py", headings=False)

    right = (ROOT / "tests" / "answers" / "realmodel" / "02_leap.py").read_text()

    def route(body):  # right only where the ask comes first
        shown = body["messages"][-1]["content"]
        return whole("leap.py", right if shown.startswith(ask) else "def leap_year(year):\n    return None\n")

    argv = ["--out", str(tmp_path / "out.jsonl"), "--only", "02_leap", "--shapes", "sent", "ask-first"]
    with ScriptedServer([], route=route) as server:
        records = first_request.main([*argv, "--base-url", server.url])
    scores = {r["shape"]: r["passed"] for r in records}
    assert set(scores) == {"sent", "ask-first"} and scores["sent"] == 0 and scores["ask-first"] > 1
    assert "| ask-first | 1 / 1 |" in capsys.readouterr().out


@pytest.mark.slow
def test_honesty_benchmark_prints_its_figures(capsys):
    from benchmarks import honesty

    figures = honesty.main([])
    out = capsys.readouterr().out
    assert "correct answers refused:" in out and "gaming answers caught:" in out
    assert set(figures) == {"false_refusals", "catch_rate", "naive_catch_rate"}


@pytest.mark.slow
def test_overhead_benchmark_prints_its_ratios(base_image, capsys):
    from benchmarks import overhead

    figures = overhead.main(["--exercises", "3", "--image", base_image])
    out = capsys.readouterr().out
    assert "| solve (1 answer, 2 test runs) |" in out and "| already green: `hook run --check` |" in out
    assert {"ratio_solve", "ratio_green"} <= set(figures)


@pytest.mark.slow
def test_workspace_benchmark_prints_its_ratio(capsys):
    from benchmarks import workspace

    figures = workspace.main(["--files", "200", "--repeat", "1"])
    assert "snapshot + forks + a step" in capsys.readouterr().out and figures["floor"] > 0


@pytest.mark.slow
def test_fix_request_benchmark_asks_the_best_codes_fix_request_in_both_shapes(capsys, tmp_path):
    """From a run's records the fix request showing the code that passes the most tests is taken (not a later,
    worse one); the scripted model repeats that code where it is shown the test files and answers right where it
    is not, so `sent` scores the code shown and `focus` every test; a second start asks nothing more."""
    from benchmarks import fix_request, realmodel
    from tests.e2e.test_bench import whole
    from tests.scripted_server import ScriptedServer

    fence = "`" * 3
    close = "def leap_year(year):\n    return year % 4 == 0\n"  # wrong for 2100, 1900, 1800
    stub = "def leap_year(year):\n    pass\n"

    def fix(code: str) -> dict:
        return {"role": "user", "content": f"# Test files (read-only)\n\ntest_leap.py\n{fence}python\n...\n{fence}\n\n"
                                           f"# Implementation files\n\nleap.py\n{fence}python\n{code}{fence}\n\n"
                                           "# Test results now: 7 passed, 3 failed\n\n"
                                           "## test_leap.py::test_common_years[2100] FAILED\n"
                                           "leap_year(2100) returned True, but the test expects False.\n\n"
                                           "# How to answer\n\nleap.py whole\n"}

    system = {"role": "system", "content": "You are makegreen."}
    trajectory = tmp_path / "runs" / "02_leap-makegreen" / "r" / "trajectory.jsonl"
    trajectory.parent.mkdir(parents=True)
    trajectory.write_text("".join(json.dumps({"type": "ModelRequest", "messages": [system, user]}) + "\n" for user in
                                  ({"role": "user", "content": "Write the implementation."}, fix(close), fix(stub))))
    task = realmodel.TASKS / "02_leap"
    messages, code, base, total = fix_request.best_request(tmp_path / "runs", task)
    assert code == close and 0 < base < total and messages[0] == system
    focus = fix_request.shapes(task, messages, code)["focus"][-1]["content"]
    assert focus.startswith(f"leap.py\n{fence}python\n{close}{fence}") and "# " not in focus
    assert "test_leap.py::test_common_years[2100] failed:\nleap_year(2100) returned True" in focus
    right = (ROOT / "tests" / "answers" / "realmodel" / "02_leap.py").read_text()

    def route(body):
        return whole("leap.py", close if "# Test files" in body["messages"][-1]["content"] else right)

    argv = ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out.jsonl"), "--only", "02_leap",
            "--draws", "2"]
    with ScriptedServer([], route=route) as server:
        records = fix_request.main([*argv, "--base-url", server.url])
    scores = {(r["shape"], r["draw"]): (r["passed"], r["same"]) for r in records}
    assert scores == {("sent", 0): (base, True), ("sent", 1): (base, True), ("focus", 0): (total, False),
                      ("focus", 1): (total, False)}
    out = capsys.readouterr().out
    assert "| sent | 2 | 0 (0 tasks) | 0 | 2 |" in out and "| focus | 2 | 2 (1 tasks) | 2 | 0 |" in out
    again = fix_request.main([*argv, "--base-url", "http://127.0.0.1:9/v1"])  # nothing left to ask
    assert len(again) == 4


def test_first_request_examples_say_each_check_as_a_call_and_its_result():
    from benchmarks.first_request import examples

    source = '''import pytest, unittest
from m import f, g

def test_plain():
    assert f(1) == 2
    assert f(1) == 2

@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert f(x) == x

def test_raises():
    with pytest.raises(ValueError):
        g("")

class T(unittest.TestCase):
    def test_unittest(self):
        self.assertIs(g("a"), True)
        self.assertFalse(g("b"))
        self.assertEqual(f(2), 3, "a message")
'''
    assert examples(source) == ["f(1) → 2", "g('') raises ValueError", "g('a') → True", "g('b') → False",
                                "f(2) → 3"]
    from benchmarks.first_request import TASKS, shapes

    found = shapes(TASKS / "19_luhn", [{"role": "user", "content": "no headings: no place for the examples"}])
    assert "examples" not in found and "plain-examples" in found
    asked = found["plain-examples"][0]["content"]
    assert asked.startswith(found["plain"][0]["content"].split("\n\nAnswer with")[0])
    assert asked.endswith("Luhn('091').valid() → True\n\nAnswer with the complete new luhn.py in one ```python block.")

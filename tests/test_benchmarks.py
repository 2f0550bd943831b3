"""The benchmarks run and print their figures (run with `-m slow`; no figure is asserted)."""
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
        first = not any(message["role"] == "assistant" for message in body["messages"])
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

    # resumable: a second start with the same folder asks nothing more and reports the same results
    again = realmodel.main(["--base-url", "http://127.0.0.1:9/v1", "--model", "scripted-model", "--sandbox", "local",
                            "--only", "01_two_fer", "02_leap", "--iterations", "2", "--out", str(tmp_path)])
    assert "resuming" in capsys.readouterr().out
    assert [(r.agent, r.task, r.solved) for r in again] == [(r.agent, r.task, r.solved) for r in results]


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

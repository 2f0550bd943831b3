"""The benchmarks run and print their figures (run with `-m slow`; no figure is asserted)."""
import pytest

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
def test_candidates_benchmark_prints_its_figures(base_image, capsys):
    from benchmarks import candidates

    figures = candidates.main(["--repeat", "1", "--think", "0.5"])
    assert "wall(N=4) / wall(N=1)" in capsys.readouterr().out
    assert figures[4]["requests"] == 8 and figures[1]["requests"] == 2


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

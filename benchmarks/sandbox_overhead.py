"""What the Docker sandbox costs: bare pytest in a container against a makegreen sandbox run, same image.

    python3 benchmarks/sandbox_overhead.py [--repeat N]

Prints, for a tiny suite and a ~1 s suite, warm (container already up) and cold (a fresh container) medians and
their ratios, then how long `makegreen solve` takes to its first red report with the image cached. Targets: warm
≤ 1.10× bare on the ~1 s suite, ≤ +80 ms on the tiny one, first red report ≤ 2 s.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.container import DockerSandbox, Limits, connect  # noqa: E402
from sandbox.image import Dependencies, ensure_image  # noqa: E402

TINY = {"tests/test_tiny.py": b"def test_a():\n    assert 1 + 1 == 2\n\ndef test_b():\n    assert 'x'.upper() == 'X'\n"}
SECOND = {"tests/test_second.py": b"import time\nimport pytest\n\n"
                                  b"@pytest.mark.parametrize('n', range(20))\n"
                                  b"def test_busy(n):\n"
                                  b"    end = time.perf_counter() + 0.05\n"
                                  b"    while time.perf_counter() < end:\n"
                                  b"        pass\n"}
BARE = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def _tar(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(f"workspace/{path}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def median_of(repeat, action):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bare_warm(client, image, files, repeat):
    container = client.containers.run(image, ["sleep", "infinity"], detach=True, init=True, network_mode="none",
                                      labels={"makegreen": "1"}, working_dir="/workspace")
    try:
        container.put_archive("/", _tar(files))
        return median_of(repeat, lambda: container.exec_run(BARE, user="65534:65534", workdir="/workspace"))
    finally:
        container.remove(force=True)


def bare_cold(client, image, files, repeat):
    def once():
        container = client.containers.create(image, BARE, network_mode="none", labels={"makegreen": "1"},
                                             working_dir="/workspace", user="65534:65534")
        container.put_archive("/", _tar(files))
        container.start()
        container.wait()
        container.remove(force=True)
    return median_of(repeat, once)


def sandbox_warm(client, image, files, repeat):
    box = DockerSandbox(connect(), image, Limits())
    box.start(files)
    try:
        return median_of(repeat, lambda: box.run_tests([], 120))
    finally:
        box.close()


def sandbox_cold(client, image, files, repeat):
    def once():
        box = DockerSandbox(connect(), image, Limits())
        box.start(files)
        box.run_tests([], 120)
        box.close()
    return median_of(repeat, once)


def first_red_report(repeat):
    """Seconds from `makegreen solve` starting to its baseline report, the image cached (median)."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import make_repo
    from tests.scripted_server import Reply, ScriptedServer

    answer = (ROOT / "tests" / "answers" / "roman.md").read_text()
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(repeat):
            repo = make_repo(Path(folder) / f"roman{attempt}", example="roman")
            with ScriptedServer([Reply(answer)]) as server:
                env = {**os.environ, "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k",
                       "MAKEGREEN_MODEL": "scripted-model", "PYTHONPATH": str(ROOT)}
                started = time.time()
                subprocess.run([sys.executable, "-m", "agent", "solve", "--json"], cwd=repo, env=env,
                               capture_output=True, check=True)
            [trajectory] = (repo / ".makegreen" / "runs").glob("*/trajectory.jsonl")
            for line in trajectory.read_text().splitlines():
                record = json.loads(line)
                if record["type"] == "TestsRan" and record["iteration"] == 0:
                    times.append(record["time"] - started)
                    break
    return statistics.median(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    client = connect().sdk()
    base = os.environ.get("MAKEGREEN_BASE_IMAGE", "python:3.12-slim")
    image = ensure_image(connect(), base, Dependencies((), {}))
    figures = {}
    print(f"image {image} (from {base}); medians of {args.repeat}")
    print(f"{'suite':<8} {'mode':<5} {'bare s':>8} {'makegreen s':>12} {'ratio':>6} {'extra ms':>9}")
    for name, files in (("tiny", TINY), ("~1 s", SECOND)):
        for mode, bare, ours in (("warm", bare_warm, sandbox_warm), ("cold", bare_cold, sandbox_cold)):
            b = bare(client, image, files, args.repeat)
            m = ours(client, image, files, args.repeat)
            figures[f"{name} {mode}"] = (b, m)
            print(f"{name:<8} {mode:<5} {b:>8.3f} {m:>12.3f} {m / b:>6.2f} {(m - b) * 1000:>9.0f}")
    red = first_red_report(max(3, args.repeat // 2))
    figures["first red report"] = red
    tiny_b, tiny_m = figures["tiny warm"]
    sec_b, sec_m = figures["~1 s warm"]
    print(f"first red report after `makegreen solve` starts: {red:.2f} s (target <= 2 s)")
    print(f"targets: ~1 s warm ratio {sec_m / sec_b:.2f} (<= 1.10); tiny warm extra "
          f"{(tiny_m - tiny_b) * 1000:.0f} ms (<= 80 ms)")
    return figures


if __name__ == "__main__":
    main()

"""makegreen runs, show and replay on recorded runs: listed, told, and run again without the model."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ANSWERS, ROOT, make_repo
from tests.e2e.test_solve import solve, summary_of
from tests.scripted_server import Reply, ScriptedServer

ROMAN = (ANSWERS / "roman.md").read_text()
ROMAN_WRONG = (ANSWERS / "roman_wrong.md").read_text()


def makegreen(repo, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))}
    # a replay sends nothing: a backend that cannot be reached proves it
    env.update(PYTHONPATH=str(ROOT), OPENAI_API_KEY="k", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    if os.environ.get("MAKEGREEN_BASE_IMAGE"):
        env["MAKEGREEN_BASE_IMAGE"] = os.environ["MAKEGREEN_BASE_IMAGE"]
    return subprocess.run([sys.executable, "-m", "agent", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=300)


def recorded(tmp_path, *args, replies=None):
    repo = make_repo(tmp_path / "roman", example="roman")
    replies = replies or [Reply(ROMAN_WRONG, reasoning="Numerals are additive, surely."), Reply(ROMAN)]
    with ScriptedServer(replies) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", *args)
    summary = summary_of(result)
    assert summary["status"] == "green", result.stderr
    return repo, summary


def test_runs_lists_and_show_tells_a_run_step_by_step(tmp_path):
    repo, summary = recorded(tmp_path, "--second-draft", "off")
    listed = json.loads(makegreen(repo, "runs", "--json").stdout)
    assert [(r["id"], r["status"], r["iterations"], r["model"]) for r in listed] == [
        (summary["run_id"], "green", 2, "scripted-model")]
    assert listed[0]["tokens"] > 0 and listed[0]["seconds"] > 0
    assert summary["run_id"] in makegreen(repo, "runs").stdout
    for ref in (summary["run_id"][:15], "last", str(repo / summary["run_dir"])):
        shown = makegreen(repo, "show", ref)
        assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "iteration 1" in text and "iteration 2" in text and "1 passed, 17 failed" in text and "18 passed" in text
    assert "Numerals are additive, surely." in text  # the thinking
    assert "+def from_roman(numeral):" in text  # the edits as a diff
    assert "told the model (from prompts/state.md)" in text and "but the test expects" in text  # the distilled
    # failures it was shown, and the template that said it
    assert "the task, as the model was given it (from prompts/task.md + prompts/state.md)" in text
    raw = json.loads(makegreen(repo, "show", "last", "--json").stdout)
    assert raw["records"][0] == {"type": "Header", "version": 1} and raw["summary"]["run_id"] == summary["run_id"]
    assert json.loads(makegreen(repo, "show", "--json").stdout) == raw  # no run named: the last one


def test_show_tells_a_second_draft_whole_and_replay_asks_it_again(tmp_path):
    """A plain chat server's failed first answer is followed by the first request in other words: show prints that
    request whole, and a replay (whose model says nothing of itself) asks it again as the run did."""
    repo, summary = recorded(tmp_path)
    records = [json.loads(line) for line in (repo / summary["run_dir"] / "trajectory.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records].count("SecondDraft") == 1
    text = makegreen(repo, "show", "last", "--full").stdout
    assert "told the model (from prompts/draft_format.md)" in text
    assert "Write roman.py so that the tests in tests/test_roman.py pass." in text  # (no roman.py yet)
    replayed = json.loads(makegreen(repo, "replay", "last", "--json").stdout)
    assert replayed["reproduced"] and replayed["divergences"] == []


def test_replay_reproduces_a_run_without_the_model(tmp_path):
    repo, summary = recorded(tmp_path)
    applied = (repo / "roman.py").read_bytes()
    (repo / "roman.py").write_text("# the user's own version since\n")
    replayed = makegreen(repo, "replay", summary["run_id"], "--json")
    assert replayed.returncode == 0, replayed.stderr
    again = json.loads(replayed.stdout)
    assert again["reproduced"] and again["divergences"] == [] and again["status"] == "green"
    assert again["iterations"] == 2 and again["replay_of"] == summary["run_id"]
    assert (repo / "roman.py").read_text() == "# the user's own version since\n" != applied.decode()  # nothing applied
    listed = json.loads(makegreen(repo, "runs", "--json").stdout)
    assert [r["replay_of"] for r in listed] == [None, summary["run_id"]]


def test_replay_of_candidates_reproduces_each_one(tmp_path):
    repo, summary = recorded(tmp_path, "--candidates", "2", replies=[Reply(ROMAN_WRONG), Reply(ROMAN)])
    replayed = makegreen(repo, "replay", "last")
    assert replayed.returncode == 0 and "reproduced" in replayed.stdout, replayed.stdout + replayed.stderr


def test_replay_says_where_it_diverges(tmp_path):
    repo, summary = recorded(tmp_path)
    path = repo / summary["run_dir"] / "trajectory.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:  # as if the code under test had changed since: the last answer no longer works
        if record["type"] == "ModelAnswered" and record["iteration"] == 2:
            record["text"] = ROMAN_WRONG
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    replayed = makegreen(repo, "replay", summary["run_id"])
    assert replayed.returncode == 1, replayed.stderr
    assert "the record holds no more answers" in replayed.stdout  # the wrong answer left it asking for more
    assert "diverged: iteration 2: the record ran the tests (18 passed), the replay did not" in replayed.stdout
    assert "diverged: status: the record ended 'green', the replay 'out_of_budget'" in replayed.stdout


def test_bad_references_and_records_are_refused(tmp_path):
    repo, summary = recorded(tmp_path)
    missing = makegreen(repo, "show", "nope")
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr
    run_dir = repo / summary["run_dir"]
    (run_dir / "snapshot.tar.gz").unlink()
    assert "cannot be replayed" in makegreen(repo, "replay", "last").stderr
    path = run_dir / "trajectory.jsonl"
    path.write_text(path.read_text().replace('"version": 1', '"version": 99', 1))
    newer = makegreen(repo, "show", "last")
    assert newer.returncode == 2 and "newer makegreen" in newer.stderr

"""--candidates N and --beam K through the real CLI: parallel drafts in their own sandboxes, scored by the tests."""
from __future__ import annotations

import json

from tests.conftest import ANSWERS, make_repo, tree_bytes
from tests.e2e.test_solve import solve, summary_of
from tests.scripted_server import Reply, ScriptedServer

FENCE = "`" * 3
ROMAN = (ANSWERS / "roman.md").read_text()
ROMAN_WRONG = (ANSWERS / "roman_wrong.md").read_text()
# passes more than ROMAN_WRONG and less than ROMAN: invalid numerals are not refused
HALF = ROMAN.replace("    if rest or not 1 <= total <= 3999 or to_roman(total) != numeral:\n", "    if False:\n")
HANGS = f"roman.py\n{FENCE}python\nimport time\ntime.sleep(3600)\n{FENCE}\n"
FOREVER = Reply("", reasoning="thinking " * 20_000, chunk_size=8, chunk_delay=0.2)  # hours of streaming


def records(repo, summary) -> list[dict]:
    return [json.loads(line) for line in (repo / summary["run_dir"] / "trajectory.jsonl").read_text().splitlines()]


def code_of(answer: str) -> str:
    return answer.split(FENCE + "python\n")[1].split(FENCE)[0].rstrip()


def shown(request: dict, *answers: str) -> list[str]:
    """Which of the answers' code the request shows as the code now (answers are never sent back themselves)."""
    assert not [m for m in request["messages"] if m["role"] == "assistant"]
    return [answer for answer in answers if code_of(answer) in request["messages"][-1]["content"]]


def test_the_best_of_several_drafts_is_kept_and_each_asked_differently(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    before = tree_bytes(repo)
    with ScriptedServer([Reply(ROMAN_WRONG), Reply(HALF), Reply("I cannot write code today.")]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--candidates", "3", "--max-iterations", "1")
        requests = server.chat_requests()
    summary = summary_of(result)
    assert result.returncode == 1 and summary["status"] == "not_solved", result.stderr
    assert len(requests) == 3 and len({r.get("temperature") for r in requests}) == 3
    patch = (repo / summary["run_dir"] / "best-attempt.patch").read_text()
    assert "if False:" in patch  # HALF, the best of the three
    assert summary["tests"]["failed"] > 0 and summary["candidates"] == 3
    assert tree_bytes(repo) == before
    scored = [r for r in records(repo, summary) if r["type"] == "CandidatesScored"]
    assert len(scored) == 1 and len(scored[0]["ranking"]) == 3 and len(scored[0]["kept"]) == 1
    candidates = {r["candidate"] for r in records(repo, summary) if r["type"] == "ModelAnswered"}
    assert candidates == {1, 2, 3}
    assert "candidate" in result.stderr and "scored" in result.stderr


def test_debugging_goes_on_from_the_best_and_ends_at_the_first_green(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    replies = [Reply(HALF), Reply(ROMAN_WRONG), Reply(ROMAN), Reply(ROMAN_WRONG)]
    with ScriptedServer(replies) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--candidates", "2", "--beam", "1",
                       "--second-draft", "off")  # round 2 fixes from the best line
        requests = server.chat_requests()
    summary = summary_of(result)
    assert result.returncode == 0 and summary["status"] == "green", result.stderr
    assert summary["iterations"] == 2 and summary["candidate"] in (1, 2)
    second_round = requests[2:4]
    assert all(shown(r, HALF, ROMAN_WRONG) == [HALF] for r in second_round)  # both from the best line
    assert (repo / "roman.py").read_text() in ROMAN


def test_a_beam_of_two_keeps_both_lines(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    replies = [Reply(HALF), Reply(ROMAN_WRONG), Reply(ROMAN_WRONG), Reply(ROMAN_WRONG), Reply(ROMAN)]
    with ScriptedServer(replies) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--candidates", "2", "--beam", "2",
                       "--max-iterations", "2", "--second-draft", "off")
        requests = server.chat_requests()
    summary = summary_of(result)
    assert summary["status"] == "not_solved", result.stderr
    assert sorted(shown(r, HALF, ROMAN_WRONG)[0] for r in requests[2:4]) == sorted([HALF, ROMAN_WRONG])


def test_the_first_green_stops_the_others_in_the_model_and_in_the_sandbox(tmp_path, docker_client, base_image):
    # whichever candidate gets which reply, one is green at once, one streams for hours and one's tests hang for
    # an hour: the run must end with the green one, its containers gone (the harness's timeout is the hang guard)
    repo = make_repo(tmp_path / "roman", example="roman")
    before = tree_bytes(repo)
    with ScriptedServer([Reply(ROMAN), FOREVER, Reply(HANGS)]) as server:
        result = solve(repo, server, "--json", "--candidates", "3", "--test-timeout", "3000")
    summary = summary_of(result)
    assert result.returncode == 0 and summary["status"] == "green", result.stderr
    assert (repo / "roman.py").read_text() in ROMAN and tree_bytes(repo) != before
    left = [c.name for c in docker_client.containers.list(all=True, filters={"label": f"makegreen.run={summary['run_id']}"})
            if not c.name.startswith("makegreen-idle-")]  # parked for the next run (the warm pool) is not left over
    assert left == []
    ran = [r for r in records(repo, summary) if r["type"] == "TestsRan" and r["iteration"] == 1]
    assert [r["green"] for r in ran] == [True]  # the hanging run never reported: it was stopped

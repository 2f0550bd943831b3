"""RunSummary (agent/run/summary.py): the one result every reader reads, and its JSON."""
from agent.run.status import Status
from agent.run.summary import RunSummary


def test_the_json_round_trip_keeps_everything_and_leaves_out_what_does_not_apply():
    summary = RunSummary("r1", "runs/r1", "m", "docker", Status.GREEN, applied=True, tests={"passed": 3},
                         changed_files=["a.py"], cost_usd=None, seconds=1.5)
    data = summary.to_json()
    assert data["status"] == "green" and data["cost_usd"] is None and data["holdout"] is None
    assert not {"candidate", "message", "conflicts", "overwrote_uncommitted", "commit", "branch"} & data.keys()
    assert RunSummary.from_json(data) == summary
    summary.update(commit="abc", branch="main")
    assert RunSummary.from_json(summary.to_json()).commit == "abc"


def test_an_older_or_foreign_record_reads_with_defaults():
    old = RunSummary.from_json({"status": "something-new", "iterations": 2, "a_key_from_elsewhere": 1})
    assert old.status == Status.ERROR and old.iterations == 2 and old.tests == {} and old.seconds is None
    assert RunSummary.from_json(None) == RunSummary() and RunSummary.from_json(["not", "a", "summary"]) == RunSummary()


def test_an_unknown_field_is_refused_when_set():
    import pytest

    with pytest.raises(AttributeError):
        RunSummary().update(colour="green")

"""Events (agent/run/events.py) are plain data in the record and typed again when read back (from_record)."""
from agent.run import events as ev
from agent.workspace.edits import Miss, Refusal
from agent.run.status import Status
from agent.run.summary import RunSummary
from agent.run.trajectory import TrajectoryWriter, read_records


def test_every_event_reads_back_from_the_record_as_it_was_told(tmp_path):
    told = [
        ev.RunStarted("r1", "/repo", "m", "docker", ("tests/test_a.py",)),
        ev.TestsRan(1, {"passed": 1, "failed": 1}, False, False, 0.5, ("tests/test_a.py::test_b",), candidate=2),
        ev.ModelRequest(1, ({"role": "user", "content": "hi"},), effort="high"),
        ev.EditsApplied(1, ("a.py",), (Refusal("tests/test_a.py", "a test file", protected=True),),
                        (Miss(1, "b.py", "no match", "x = 1", 3),), found=2, diff="--- a.py"),
        ev.CandidatesScored(1, (ev.Ranked(2, passed=3, failed=1), ev.Ranked(1, errors=1, honest=False)), (2,)),
        ev.Finished(RunSummary("r1", "runs/r1", "m", "docker", Status.GREEN, applied=True, commit="abc")),
    ]
    writer = TrajectoryWriter(tmp_path)
    for event in told:
        writer(event)
    writer.close()
    read = [ev.from_record(record) for record in read_records(tmp_path) if record["type"] in ev.EVENTS]
    assert read == told
    assert read[3].refused[0].protected and read[4].ranking[1].honest is False


def test_a_record_of_a_newer_or_older_makegreen_reads_with_defaults():
    assert ev.from_record({"type": "SomethingNew", "x": 1}) is None
    old = ev.from_record({"type": "EditsApplied", "iteration": 2, "changed": ["a.py"], "a_later_field": True,
                          "refused": [{"path": "p", "reason": "r", "colour": "red"}]})
    assert old == ev.EditsApplied(2, ("a.py",), (Refusal("p", "r"),))

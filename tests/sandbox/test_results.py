import json

from sandbox.capture import CappedOutput
from sandbox.results import parse_report


def lines(*records):
    return "\n".join(json.dumps(r) for r in records)


def test_phases_fold_into_one_outcome_and_a_torn_line_is_ignored():
    text = lines(
        {"event": "collected", "nodeids": ["t.py::a", "t.py::b", "t.py::c", "t.py::d"]},
        {"event": "test", "nodeid": "t.py::a", "when": "setup", "outcome": "passed"},
        {"event": "test", "nodeid": "t.py::a", "when": "call", "outcome": "passed"},
        {"event": "test", "nodeid": "t.py::b", "when": "setup", "outcome": "passed"},
        {"event": "test", "nodeid": "t.py::b", "when": "call", "outcome": "failed", "message": "assert 1 == 2",
         "longrepr": "E assert 1 == 2"},
        {"event": "test", "nodeid": "t.py::c", "when": "setup", "outcome": "failed", "message": "fixture broke"},
        {"event": "test", "nodeid": "t.py::d", "when": "setup", "outcome": "skipped", "wasxfail": True},
    ) + '\n{"event": "test", "nodeid": "t.py::e", "wh'
    report = parse_report(text)
    assert {n: c.outcome for n, c in report.tests.items()} == {
        "t.py::a": "passed", "t.py::b": "failed", "t.py::c": "error", "t.py::d": "xfailed"}
    assert report.tests["t.py::b"].message == "assert 1 == 2"
    assert report.exitstatus is None and not report.green
    assert report.summary() == {"passed": 1, "failed": 1, "errors": 1, "skipped": 1}


def test_green_needs_a_finished_run_with_every_collected_test_passing():
    passed = [{"event": "test", "nodeid": "t.py::a", "when": w, "outcome": "passed"} for w in ("setup", "call")]
    finish = {"event": "finish", "exitstatus": 0}
    assert parse_report(lines({"event": "collected", "nodeids": ["t.py::a"]}, *passed, finish)).green
    # a collected test that never reported (deselected by the code under test, say) is not green
    assert not parse_report(lines({"event": "collected", "nodeids": ["t.py::a", "t.py::b"]}, *passed, finish)).green
    assert not parse_report(lines({"event": "collected", "nodeids": []}, finish)).green


def test_capped_output_keeps_head_and_tail_and_counts_the_middle():
    out = CappedOutput(limit=100)
    for i in range(1000):
        out.feed(f"{i:04d}\n".encode())
    text = out.text()
    assert text.startswith("0000\n0001\n")
    assert text.endswith("0998\n0999\n")
    assert out.total == 5000 and out.dropped == 4900
    assert "[... 4900 bytes of output cut ...]" in text


def test_results_are_read_from_the_frame_at_the_end_whatever_came_before():
    from sandbox.container import _unframe

    report = b'{"event": "finish", "exitstatus": 0}\n'
    changed = b"/workspace/tests/test_a.py\n"
    data = b"junk a process wrote\n" + report + changed + b"\n%d %d\n" % (len(report), len(changed))
    assert _unframe(data) == (report.decode(), ("tests/test_a.py",), "")
    assert _unframe(data.rstrip(b"\n") + b" 0123abcd\n") == (report.decode(), ("tests/test_a.py",), "0123abcd")
    assert _unframe(b"killed before the end") == ("", (), "")
    assert _unframe(b"x\n99 1\n") == ("", (), "")


def test_records_not_signed_with_the_runs_key_are_not_read_and_are_named():
    import hashlib
    import hmac
    import json

    from sandbox.results import disagreement

    key = b"0123456789abcdef"

    def signed(record: dict) -> str:
        text = json.dumps(record)
        return text + "\t" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    real = [{"event": "collected", "nodeids": ["t.py::a"]},
            {"event": "test", "nodeid": "t.py::a", "when": "call", "outcome": "failed", "message": "boom"}]
    forged = [{"event": "test", "nodeid": "t.py::a", "when": "teardown", "outcome": "passed"},
              {"event": "finish", "exitstatus": 0}]
    text = "\n".join([*map(signed, real), *map(json.dumps, forged)]) + "\n"
    report = parse_report(text, key=key)
    assert report.tests["t.py::a"].outcome == "failed" and report.exitstatus is None
    assert report.anomalies == ("2 record(s) in the report were not written by makegreen's plugin (no valid "
                                "signature)",)
    assert disagreement(report, 0, timed_out=False)[0].startswith("the results channel disagrees")
    assert parse_report(text).exitstatus == 0  # without the key (an older runner) everything is read


def test_results_that_disagree_with_pytests_process_are_tampering():
    from sandbox.results import disagreement

    finish = {"event": "finish", "exitstatus": 0}
    passed = lines({"event": "collected", "nodeids": ["t.py::a", "t.py::b"]},
                   {"event": "test", "nodeid": "t.py::a", "when": "call", "outcome": "passed"}, finish)
    report = parse_report(passed)
    said = " ".join(disagreement(report, 1, timed_out=False))
    assert "exited with 1" in said and "1 collected test(s) have no result" in said
    assert disagreement(parse_report(lines({"event": "collected", "nodeids": []})), 0, False) == [
        "the results channel disagrees with the test run: pytest's process exited 0 before the run's end was "
        "reported: the test run was ended early"]
    assert disagreement(report, 1, timed_out=True) == []

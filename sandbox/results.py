"""Test results, read from the JSON lines that the sandbox's pytest plugin writes."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

# pytest's own exit statuses
PYTEST_OK, PYTEST_FAILED, PYTEST_INTERRUPTED, PYTEST_INTERNAL, PYTEST_USAGE, PYTEST_NO_TESTS = range(6)


@dataclass(frozen=True)
class TestCase:
    """One test's result, its setup, call and teardown phases folded into one outcome."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str  # passed, failed, error, skipped, xfailed, xpassed
    message: str = ""
    longrepr: str = ""
    duration: float = 0.0

    @property
    def file(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass(frozen=True)
class CollectError:
    """A test module (or package) that could not be collected, with the exception that stopped it."""

    nodeid: str
    exc_type: str
    exc_bases: tuple[str, ...]
    message: str
    import_name: str | None  # for an ImportError: the module it could not import, or import from
    origin: str  # the file the exception came from, relative to the rootdir where it lies inside
    line: int | None
    longrepr: str


@dataclass(frozen=True)
class TestReport:
    __test__ = False

    tests: dict[str, TestCase] = field(default_factory=dict)
    collected: tuple[str, ...] = ()
    collect_errors: tuple[CollectError, ...] = ()
    exitstatus: int | None = None  # None: pytest never reached its end (killed, or crashed before)
    anomalies: tuple[str, ...] = ()  # records the plugin never writes (a forger's)

    def count(self, *outcomes: str) -> int:
        return sum(1 for case in self.tests.values() if case.outcome in outcomes)

    @property
    def passed(self) -> int:
        return self.count("passed", "xfailed", "skipped")

    @property
    def failing(self) -> list[TestCase]:
        return [case for case in self.tests.values() if case.outcome in ("failed", "error")]

    @property
    def green(self) -> bool:
        """Every collected test ran and passed (skips and expected failures count as the user declared them)."""
        return (
            self.exitstatus == PYTEST_OK
            and not self.collect_errors
            and not self.failing
            and bool(self.tests)
            and all(nodeid in self.tests for nodeid in self.collected)
        )

    def summary(self) -> dict[str, int]:
        return {
            "passed": self.count("passed"),
            "failed": self.count("failed"),
            "errors": self.count("error") + len(self.collect_errors),
            "skipped": self.count("skipped", "xfailed"),
        }


_PHASE_ORDER = {"setup": 0, "call": 1, "teardown": 2}


UNFINISHED = "the test did not finish (killed or timed out)"


def _fold(phases: list[dict]) -> TestCase:
    phases = sorted(phases, key=lambda record: _PHASE_ORDER.get(record["when"], 3))
    nodeid = phases[0]["nodeid"]
    duration = sum(record.get("duration") or 0.0 for record in phases)
    for record in phases:
        if record["outcome"] == "failed":
            outcome = "failed" if record["when"] == "call" else "error"
            return TestCase(nodeid, outcome, record.get("message", ""), record.get("longrepr", ""), duration)
    for record in phases:
        if record["outcome"] == "skipped":
            outcome = "xfailed" if record.get("wasxfail") else "skipped"
            return TestCase(nodeid, outcome, record.get("message", ""), record.get("longrepr", ""), duration)
    call = next((record for record in phases if record["when"] == "call"), None)
    if call is None:  # killed between setup and call
        return TestCase(nodeid, "error", UNFINISHED, "", duration)
    return TestCase(nodeid, "xpassed" if call.get("wasxfail") else "passed", "", "", duration)


def _records(text: str, key: bytes = b"", strip: str = "") -> tuple[list[dict], int]:
    """The report's records, and how many lines carried no valid signature (with a key: those are dropped, not
    read). strip: a path prefix removed from the records' text, after the signature is checked."""
    records, forged = [], 0
    for line in text.splitlines():
        body, tab, signature = line.rpartition("\t")
        if not tab:
            body, signature = line, ""
        if key:
            if not hmac.compare_digest(signature, hmac.new(key, body.encode(), hashlib.sha256).hexdigest()):
                forged += bool(line.strip())
                continue
        try:
            records.append(json.loads(body.replace(strip, "") if strip else body))
        except ValueError:
            continue
    return records, forged


def parse_report(text: str, key: bytes = b"", strip: str = "") -> TestReport:
    """Build a TestReport from the plugin's JSON lines; a torn last line (the run was killed) is ignored. key: the
    run's signing key, where the runner gave the plugin one; strip: a path prefix to remove from what is read."""
    phases: dict[str, list[dict]] = {}
    collected: tuple[str, ...] = ()
    errors: list[CollectError] = []
    exitstatus = None
    records, forged = _records(text, key, strip)
    for record in records:
        event = record.get("event")
        if event == "test":
            phases.setdefault(record["nodeid"], []).append(record)
        elif event == "collected":
            collected = tuple(record["nodeids"])
        elif event == "collect_error":
            errors.append(CollectError(
                nodeid=record["nodeid"],
                exc_type=record.get("exc_type", ""),
                exc_bases=tuple(record.get("exc_bases", ())),
                message=record.get("exc_message", ""),
                import_name=record.get("import_name"),
                origin=record.get("origin", ""),
                line=record.get("line"),
                longrepr=record.get("longrepr", ""),
            ))
        elif event == "finish":
            exitstatus = record["exitstatus"]
    tests = {nodeid: _fold(records) for nodeid, records in phases.items()}
    anomalies = _anomalies(records)
    if forged:
        anomalies.insert(0, f"{forged} record(s) in the report were not written by makegreen's plugin (no valid "
                            "signature)")
    return TestReport(tests=tests, collected=collected, collect_errors=tuple(errors), exitstatus=exitstatus,
                      anomalies=tuple(anomalies))


def _anomalies(records: list[dict]) -> list[str]:
    """What the plugin never writes: a second end, records after the end, the same phase of a test twice."""
    found, seen, ended = [], set(), False
    for record in records:
        if ended:
            found.append("records follow the end of the run")
            break
        if record.get("event") == "finish":
            ended = True
        elif record.get("event") == "test":
            key = (record.get("nodeid"), record.get("when"))
            if key in seen:
                found.append(f"{key[0]} reported its {key[1]} twice")
            seen.add(key)
    return found


def disagreement(report: TestReport, exit_code: int, timed_out: bool) -> list[str]:
    """Where the results read disagree with what pytest's process did, seen from outside it: its exit status, and
    the tests it collected. Disagreement is tampering (or a run ended early by the code under test)."""
    if timed_out:
        return []
    problems = list(report.anomalies)
    if report.exitstatus is not None and report.exitstatus != exit_code:
        problems.append(f"the results say pytest ended with status {report.exitstatus}, but its process exited "
                        f"with {exit_code}")
    if report.exitstatus is None and exit_code == PYTEST_OK:
        problems.append("pytest's process exited 0 before the run's end was reported: the test run was ended early")
    missing = [nodeid for nodeid in report.collected if nodeid not in report.tests]
    if report.exitstatus == PYTEST_OK and missing:
        problems.append(f"{len(missing)} collected test(s) have no result, yet the run says it passed "
                        f"({missing[0]}…)")
    return [f"the results channel disagrees with the test run: {problem}" for problem in problems]

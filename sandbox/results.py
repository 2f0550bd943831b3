"""Test results, read from the JSON lines that the sandbox's pytest plugin writes."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

# pytest's own exit statuses
PYTEST_OK, PYTEST_FAILED, PYTEST_INTERRUPTED, PYTEST_INTERNAL, PYTEST_USAGE, PYTEST_NO_TESTS = range(6)


def _pairs(value) -> tuple[tuple[str, str], ...]:
    return tuple((str(pair[0]), str(pair[1])) for pair in value or () if isinstance(pair, (list, tuple))
                 and len(pair) == 2)


@dataclass(frozen=True)
class Arg:
    """One argument of the assert method that failed: its parameter, the argument as written, its value."""

    name: str
    source: str
    value: str


def _args(value) -> tuple[Arg, ...]:
    return tuple(Arg(str(item[0]), str(item[1]), str(item[2])) for item in value or ()
                 if isinstance(item, (list, tuple)) and len(item) == 3)


@dataclass(frozen=True)
class Raised:
    """Where the code under test raised: its file and line, the function, the line as written, its local values."""

    where: str
    function: str = ""
    source: str = ""
    locals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FailureFacts:
    """What a person looks at first in one failure, read by the plugin from the traceback where the tests ran
    (values are bounded reprs): the test's statement as written, the call under test, the values an assert method
    compared, the test's local values and parameters, where the code under test raised."""

    where: str = ""  # the test file and line of the failing statement
    statement: str = ""
    call: str = ""  # the call under test, as written
    check: str = ""  # the unittest assert method (or assertRaises' context) that failed; "" for a plain assert
    args: tuple[Arg, ...] = ()  # that method's arguments
    actual: str | None = None  # the value the code gave, where the assert method says which argument holds it
    actual_source: str = ""  # that argument as written (often the call under test)
    expected: str | None = None
    match: str | None = None  # assertRaisesRegex's pattern
    locals: tuple[tuple[str, str], ...] = ()  # the test's own local values at the failure
    params: tuple[tuple[str, str], ...] = ()  # pytest's parametrize values
    subtest: str = ""  # the subTest (or subtests) parameters, where the failure was in one
    raised: Raised | None = None
    exception: str = ""  # the exception and its message, bounded (pytest's assertion rewriting included)

    @classmethod
    def from_record(cls, record: dict, subtest: str = "") -> "FailureFacts":
        def text(key: str) -> str:
            value = record.get(key)
            return value if isinstance(value, str) else ""

        def optional(key: str) -> str | None:  # a value the plugin read, or None where it read none
            value = record.get(key)
            return None if value is None else str(value)

        raised = record.get("raised")
        return cls(where=text("where"), statement=text("statement"), call=text("call"), check=text("check"),
                   args=_args(record.get("args")), actual=optional("actual"),
                   actual_source=text("actual_source"), expected=optional("expected"),
                   match=optional("match"), locals=_pairs(record.get("locals")),
                   params=_pairs(record.get("params")), subtest=subtest,
                   raised=Raised(str(raised.get("where", "")), str(raised.get("function", "")),
                                 str(raised.get("source", "")), _pairs(raised.get("locals")))
                   if isinstance(raised, dict) else None,
                   exception=text("exception"))


@dataclass(frozen=True)
class Reach:
    """What the code under test reached while the tests ran, as the plugin's watch saw it: kind (test-file,
    test-frame, test-code, trace, runner, test-module, gc), what it reached, the project's line that did it, the
    test that was running."""

    kind: str
    target: str
    where: str
    test: str = ""


@dataclass(frozen=True)
class TestCase:
    """One test's result, its setup, call and teardown phases (and subtests) folded into one outcome."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str  # passed, failed, error, skipped, xfailed, xpassed
    message: str = ""
    longrepr: str = ""
    duration: float = 0.0
    facts: tuple[FailureFacts, ...] = ()  # one per failure (a test with subtests can fail several times)

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
    reaches: tuple[Reach, ...] = ()  # what the code under test reached (agent/honesty/watch.py judges them)
    watched: bool = False  # the watch's record was read

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


def _facts(records: list[dict]) -> tuple[FailureFacts, ...]:
    return tuple(FailureFacts.from_record(record["facts"], str(record.get("subtest") or ""))
                 for record in records if isinstance(record.get("facts"), dict))


def _fold(phases: list[dict]) -> TestCase:
    phases = sorted(phases, key=lambda record: _PHASE_ORDER.get(record["when"], 3))
    nodeid = phases[0]["nodeid"]
    duration = sum(record.get("duration") or 0.0 for record in phases)
    for record in phases:
        if record["outcome"] == "failed":
            outcome = "failed" if record["when"] == "call" else "error"
            failed = [other for other in phases if other["outcome"] == "failed" and other["when"] == record["when"]]
            return TestCase(nodeid, outcome, record.get("message", ""), record.get("longrepr", ""), duration,
                            _facts(failed))
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
    reaches: list[Reach] = []
    watched = False
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
        elif event == "watch":
            watched = True
            reaches += [Reach(str(item.get("reach", "")), str(item.get("target", "")), str(item.get("where", "")),
                              str(item.get("test", ""))) for item in record.get("reaches") or ()
                        if isinstance(item, dict)]
        elif event == "finish":
            exitstatus = record["exitstatus"]
    tests = {nodeid: _fold(records) for nodeid, records in phases.items()}
    anomalies = _anomalies(records)
    if forged:
        anomalies.insert(0, f"{forged} record(s) in the report were not written by makegreen's plugin (no valid "
                            "signature)")
    return TestReport(tests=tests, collected=collected, collect_errors=tuple(errors), exitstatus=exitstatus,
                      anomalies=tuple(anomalies), reaches=tuple(reaches), watched=watched)


def _anomalies(records: list[dict]) -> list[str]:
    """What the plugin never writes: a second end, records after the end, the same phase of a test twice."""
    found, seen, ended = [], set(), False
    for record in records:
        if ended:
            found.append("records follow the end of the run")
            break
        if record.get("event") == "finish":
            ended = True
        elif record.get("event") == "test" and "subtest" not in record:  # a test's subtests report a call each
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

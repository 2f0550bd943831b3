"""Test results, cut down to what the model needs to see, and the collection errors that are the user's."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from sandbox import RunResult, TestCase, TestReport
from sandbox.results import FailureFacts

from ..core.prompting import render
from ..core.words import count_tests

MAX_FAILURES = 12
MAX_LINES = 60
MAX_ERROR_LINES = 30
KEEP_LINES = 25  # a prompt over its budget: each block of output cut to this many lines
KEEP_FAILURES = 3  # and then only this many failures shown
MAX_OTHERS = 8  # the rest of a group said one a line, where each gave its own value
_FRAME = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): in (?P<function>\S+)\s*$")


def _cut(text: str, limit: int = MAX_LINES) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    head = limit * 2 // 3
    marker = render("cut.md", count=len(lines) - limit).rstrip("\n")
    return "\n".join(lines[:head] + [marker] + lines[-(limit - head):])


def user_errors(report: TestReport, is_test_file: Callable[[str], bool]) -> list[str]:
    """Collection errors that come from the tests themselves; a missing module or name is ordinary red."""
    found = []
    for error in report.collect_errors:
        if "ImportError" in error.exc_bases or "AttributeError" in error.exc_bases:  # not written yet
            continue
        if is_test_file(error.origin) or error.exc_type in ("SyntaxError", "IndentationError", "TabError") \
                and is_test_file(error.nodeid):
            found.append(f"{error.nodeid}: {error.exc_type}: {error.message}\n{_cut(error.longrepr, 30)}")
    return found


@dataclass(frozen=True)
class Distilled:
    """One failure, cut down: the frames in the user's code, the error lines (assertion values), the exception,
    and the facts the plugin read where the test ran (the statement, the call, the values compared)."""

    case: TestCase
    frames: tuple[str, ...]
    errors: tuple[str, ...]
    exception: str

    @property
    def facts(self) -> FailureFacts | None:
        return self.case.facts[0] if self.case.facts else None

    @property
    def causes(self) -> frozenset[tuple[str, ...]]:
        """What makes failures say the same thing: the same exception raised at the same line of the user's code;
        or, for a wrong value, the same statement failing (a parametrized test) or the same value given where
        the tests expected others (a stub's None). Failures that share any of these are one group."""
        facts = self.facts
        if facts is None:
            return frozenset({(self.exception, self.frames[-1] if self.frames else self.case.nodeid)})
        if facts.raised is not None:
            return frozenset({(self.exception, "raised", facts.raised.where)})
        if _raised_nothing(facts):  # every `assertRaises(ValueError)` that saw no exception says the same
            return frozenset({(self.exception, "raised nothing", facts.expected or facts.exception, facts.match)})
        found = {(self.exception, "at", facts.where or self.case.nodeid)}
        actual = facts.actual if facts.actual is not None else _compared(facts)
        if actual is not None:
            found.add((self.exception, "gave", facts.check, actual))
        return frozenset(found)


_PLAIN_ASSERT = re.compile(r"^AssertionError: assert (.+?) (?:==|!=|is not|is|not in|in|<=|>=|<|>) ")


def _compared(facts: FailureFacts) -> str | None:
    """For a plain assert, the value on the left of the comparison, as pytest's rewriting says it."""
    found = _PLAIN_ASSERT.match(facts.exception)
    return found.group(1) if found else None


# how each unittest assert method's expectation is said (and a plain assert's `==`, as the plugin read it); the
# rest are shown by their arguments
_EXPECTS = {"==": "{e}", "assertEqual": "{e}", "assertEquals": "{e}", "assertAlmostEqual": "about {e}",
            "assertIs": "{e}", "assertListEqual": "{e}", "assertTupleEqual": "{e}", "assertDictEqual": "{e}",
            "assertSetEqual": "{e}", "assertSequenceEqual": "{e}", "assertMultiLineEqual": "{e}",
            "assertCountEqual": "{e} in any order",
            "assertNotEqual": "anything but {e}", "assertIsNot": "anything but {e}", "assertTrue": "a true value",
            "assertFalse": "a false value", "assertIsNone": "None", "assertIsNotNone": "anything but None",
            "assertIsInstance": "an instance of {e}", "assertNotIsInstance": "anything but an instance of {e}"}


def fact_view(facts: FailureFacts) -> dict:
    """One failure's facts as plain values for prompts/failures.md."""
    expects = _EXPECTS.get(facts.check)
    said = facts.actual is not None and facts.actual_source and expects is not None
    return {
        "where": facts.where, "statement": facts.statement, "subtest": facts.subtest, "check": facts.check,
        "call": facts.call, "exception": facts.exception,
        "source": facts.actual_source if said else "", "returned": facts.actual_source.endswith(")"),
        "actual": facts.actual or "", "expects": expects.format(e=facts.expected) if said else "",
        "expected": facts.expected or "", "match": facts.match or "",
        # the assert method's other arguments, where they are not literals that the statement already shows
        "arguments": [f"{arg.source} is {arg.value}" for arg in facts.args
                   if not said and arg.source and arg.source != arg.value and not _literal(arg.source)],
        "raised": {"where": facts.raised.where, "function": facts.raised.function, "source": facts.raised.source,
                   "locals": [f"{name} = {value}" for name, value in _said(facts.raised.locals)]}
        if facts.raised else None,
        "test_values": [f"{name} = {value}" for name, value in _said(facts.locals or facts.params)],
    }


def _literal(source: str) -> bool:
    try:
        ast.literal_eval(source)
        return True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _raised_nothing(facts: FailureFacts) -> bool:
    return facts.raised is None and (facts.check == "assertRaises" or facts.exception.startswith("Failed: DID NOT"))


def _gave(facts: FailureFacts | None) -> str | None:
    """What the code gave in a failure, where the tests' run says it."""
    if facts is None:
        return None
    if _raised_nothing(facts):
        return "no exception"
    return facts.actual if facts.actual is not None else _compared(facts)


def _brief(item: "Distilled") -> str | None:
    """Another failure of a group, on one line: its test, the call, what it gave and what the test expects (a group
    shares what the code gave, not what each test expects); None where only its name is known (the name alone
    tells the model nothing the test file does not)."""
    name, facts = item.case.nodeid.split("::")[-1], item.facts
    gave, call = _gave(facts), facts and (facts.actual_source or facts.call)
    if facts is None or not call or gave is None:
        return None
    subtest = f" [{facts.subtest}]" if facts.subtest else ""
    values = ", ".join(f"{key} = {value}" for key, value in _said(facts.locals or facts.params))
    values = f" ({values})" if values and not facts.subtest else ""
    expects = _EXPECTS.get(facts.check)
    expects = f", the test expects {expects.format(e=facts.expected)}" \
        if expects and facts.expected is not None and facts.actual is not None else ""
    return f"{name}{subtest}: {call} → {gave}{values}{expects}"


def _others(first: "Distilled", rest: list["Distilled"]) -> tuple[list[str], int, str]:
    """The rest of a group as the model is shown it: (lines that add something, how many more there are, what
    they all gave where that is one value). Each input and what the code gave for it is worth a line; the same
    value over and over is not: a stub's None for every call is a count, one wrong value three examples."""
    said = [text for text in map(_brief, rest) if text is not None]
    gave = {_gave(item.facts) for item in [first, *rest]}
    same = next(iter(gave)) if len(gave) == 1 and None not in gave else ""
    limit = 0 if same in ("None", "no exception") else 3 if same else MAX_OTHERS
    return said[:limit], len(rest) - len(said[:limit]), same


_ADDRESS = re.compile(r"^<[\w.]+ object at 0x[0-9a-fA-F]+>$")


def _said(values: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Local values worth showing: not those whose repr is only an address (`with self.assertRaises(…) as err`),
    nor Python's own (`.0`, a generator expression's iterator)."""
    return [(name, value) for name, value in values if not _ADDRESS.match(value) and not name.startswith(".")]


def _user_file(path: str) -> bool:
    return not path.startswith(("/", "<", "..")) and "site-packages" not in path and "_pytest" not in path


def distill(case: TestCase) -> Distilled:
    """Read pytest's short traceback: `path:line: in function` frames and `E` lines, across chained exceptions."""
    frames, errors = [], []
    for line in case.longrepr.splitlines():
        frame = _FRAME.match(line)
        if frame and _user_file(frame["path"]):
            frames.append(f"{frame['path']}:{frame['line']} in {frame['function']}")
        elif line.startswith("E  ") or line == "E":
            errors.append(line[1:].strip() if not line[1:].strip() == "" else "")
    errors = [line for line in errors if line] or [case.message or case.outcome]
    if len(errors) > MAX_ERROR_LINES:
        half = MAX_ERROR_LINES // 2
        errors = errors[:half] + [render("cut.md", count=len(errors) - 2 * half).rstrip("\n")] + errors[-half:]
    return Distilled(case, tuple(dict.fromkeys(frames)), tuple(errors), _exception_name(case.message or errors[0]))


def _exception_name(message: str) -> str:
    named = re.match(r"^([A-Za-z_][\w.]*)(?=:)", message)
    if named:
        return named.group(1)
    return "AssertionError" if message.startswith("assert") else message.split(None, 1)[0] if message else "error"


@dataclass(frozen=True)
class Failures:
    """A test run's failures as the model is shown them, kept as data until the prompt is rendered: grouped by
    cause, each block of output cut to `lines`, at most `most` groups of failures (every collection error is shown).
    smaller() is how a prompt over its budget cuts them."""

    result: RunResult
    previous: TestReport | None = None  # the run before: what its change fixed and broke is said first
    lines: int = MAX_LINES
    most: int = MAX_FAILURES

    def smaller(self, stage: str) -> "Failures | None":
        if stage == "lines" and self.lines > KEEP_LINES:
            return replace(self, lines=KEEP_LINES)
        if stage == "failures" and self.most > KEEP_FAILURES and len(self.result.report.failing) > KEEP_FAILURES:
            return replace(self, most=KEEP_FAILURES)
        return None

    @property
    def told_by_the_tests(self) -> bool:
        """Whether these failures say nothing the test files do not: none collecting, none timing out, and every
        failing test given nothing by the code (a stub's None, or no exception where the test expects one)."""
        report = self.result.report
        if self.result.timed_out or report.collect_errors or not report.failing:
            return False
        return all(_gave(distill(case).facts) in ("None", "no exception") for case in report.failing)

    def _blocks(self) -> list[dict]:
        report, limit = self.result.report, min(self.lines, MAX_ERROR_LINES)
        blocks = [{"error": True, "nodeid": error.nodeid, "detail": _cut(error.longrepr, limit),
                   "frames": (), "facts": [], "others": [], "unlisted": 0, "same": "", "group": [error.nodeid]}
                  for error in report.collect_errors]
        for first, *rest in _grouped(distill(case) for case in report.failing):
            facts = first.case.facts
            others, unlisted, same = _others(first, rest)
            blocks.append({"error": False, "nodeid": first.case.nodeid, "outcome": first.case.outcome.upper(),
                           "frames": first.frames, "detail": _cut("\n".join(first.errors), self.lines),
                           "facts": [fact_view(item) for item in facts[:1 if self.lines < MAX_LINES else 3]],
                           "subtests": len(facts),
                           "others": others, "unlisted": unlisted, "same": same,
                           "group": [first.case.nodeid, *(item.case.nodeid for item in rest)]})
        return blocks

    def render(self) -> str:
        result, report = self.result, self.result.report
        blocks = self._blocks()
        shown = len(report.collect_errors) + self.most  # collection errors are always shown
        fixed, broken = _changes(report, self.previous)
        timed_out = result.timed_out
        abnormal = not timed_out and (report.exitstatus is None
                                      or not (blocks or fixed or broken or report.green))
        return render("failures.md", fixed=_names(fixed), broken=_names(broken), blocks=blocks[:shown],
                      more=_names(nodeid for block in blocks[shown:] for nodeid in block["group"]),
                      tampered=list(result.tampered), timed_out=timed_out, abnormal=abnormal,
                      seconds=f"{result.seconds:.0f}", exit_code=result.exit_code,
                      output=_cut(result.output, min(self.lines, 30) if timed_out else self.lines)).rstrip("\n")


def _names(nodeids: Iterable[str]) -> list[str]:
    """Tests as a list names them: the test's own name, its file and class where two would read the same."""
    nodeids = list(nodeids)
    short = [nodeid.split("::")[-1] for nodeid in nodeids]
    return [name if short.count(name) == 1 else nodeid for name, nodeid in zip(short, nodeids)]


def _grouped(items: Iterable[Distilled]) -> list[list[Distilled]]:
    """Failures in groups of those that share a cause, in the order their first failure came."""
    groups: list[tuple[set, list[Distilled]]] = []
    for item in items:
        causes = item.causes
        group = next((group for group in groups if group[0] & causes), None)
        if group is None:
            groups.append((set(causes), [item]))
        else:
            group[0].update(causes)
            group[1].append(item)
    return [members for _, members in groups]


def _changes(report: TestReport, previous: TestReport | None) -> tuple[list[str], list[str]]:
    """The tests the last change fixed, and those it broke."""
    if previous is None:
        return [], []
    before = {case.nodeid for case in previous.failing}
    now = {case.nodeid for case in report.failing}
    return sorted(nodeid for nodeid in before - now if nodeid in report.tests), sorted(now - before)


def describe(result: RunResult, previous: TestReport | None = None) -> str:
    """The failures of one test run, rendered for the model: grouped by cause, cut to what explains them."""
    return Failures(result, previous).render()


def counts(report: TestReport) -> str:
    return count_tests(report.summary())

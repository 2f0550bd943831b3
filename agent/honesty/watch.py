"""What the code under test reached while the tests ran, judged: evidence that it looked at the tests or changed
them or their runner keeps a result red; looking through the garbage collector's objects is a warning.

The evidence comes from the watch in the sandbox's pytest plugin (audit hooks and a comparison of pytest's,
unittest's and the test modules' functions), each reach attributed to a line of the project's own code. A reach is
judged by what it reached, never by what was imported: logging, warnings, typing, enum, dataclasses or inspect
acting on the code's behalf reach nothing of the tests, and are not reported at all.
"""
from __future__ import annotations

import ast
from typing import Mapping

from sandbox.results import Reach, TestReport

BLOCKING = {
    "test-file": "read the test file {target}",
    "test-frame": "took the stack of the running test {target}",
    "test-code": "read or replaced the code of the test function {target}",
    "trace": "installed a trace or profile function ({target}): it sees every line the tests run",
    "runner": "replaced {target} (pytest's, unittest's or makegreen's own) while the tests ran",
    "test-module": "changed the test module's {target} while the tests ran",
}
WARNING = {"gc": "looked through the garbage collector's objects ({target}), which hold the tests and pytest"}
SET_ASIDE = ("runner", "test-module")  # changes a plugin of the user's makes: as much in the run before as now

# what the static look names on a line the watch points at (explaining the evidence, never deciding)
_REACHES = {"_getframe": "sys._getframe", "currentframe": "inspect.currentframe", "stack": "inspect.stack",
            "getouterframes": "inspect.getouterframes", "extract_stack": "traceback.extract_stack",
            "settrace": "sys.settrace", "setprofile": "sys.setprofile", "register_callback": "sys.monitoring",
            "_current_frames": "sys._current_frames",
            "get_objects": "gc.get_objects", "get_referrers": "gc.get_referrers", "getline": "linecache.getline",
            "getlines": "linecache.getlines", "open": "open", "modules": "sys.modules", "f_back": "f_back",
            "f_locals": "f_locals", "f_code": "f_code", "__code__": "__code__"}


def judged(report: TestReport, before: TestReport | None,
           sources: Mapping[str, bytes | None]) -> tuple[list[str], list[str]]:
    """(what keeps the result red, warnings) from the watch's evidence in report, each naming the line that did it:
    a line of the answer (sources: the files it changed, by path), or of nothing known (a builtin put in pytest's
    place). before is the run of the code as the user had it, whose session-wide changes are set aside."""
    aside = {(reach.kind, reach.target) for reach in (before.reaches if before else ()) if reach.kind in SET_ASIDE}
    blocking: dict[tuple[str, str], str] = {}
    warnings: dict[tuple[str, str], str] = {}
    for reach in report.reaches:
        path = reach.where.rpartition(":")[0] or reach.where  # "?": no line known
        if (reach.kind, reach.target) in aside or path != "?" and path not in sources:
            continue  # a plugin's doing, or your own code's (a helper beside the tests): not the answer's
        table, found = (BLOCKING, blocking) if reach.kind in BLOCKING else (WARNING, warnings)
        if reach.kind not in table or (reach.kind, reach.where) in found:
            continue
        who = f"{reach.where}{_named(reach.where, sources)}" if path != "?" else "the code (with no line of its own)"
        found[(reach.kind, reach.where)] = f"{who} {table[reach.kind].format(target=reach.target)}"
    if report.exitstatus is not None and not report.watched:
        blocking[("", "")] = "the test run ended without the watch's record (something removed it)"
    return list(blocking.values()), list(warnings.values())


def _named(where: str, sources: Mapping[str, bytes | None]) -> str:
    """What the line at where reaches, as the static look reads it: ' (sys._getframe, f_back)', or ''."""
    path, _, line = where.rpartition(":")
    text = sources.get(path)
    if not text or not line.isdigit():
        return ""
    names = static_reaches(text.decode("utf-8", "replace")).get(int(line), [])
    return f" ({', '.join(names)})" if names else ""


def static_reaches(text: str) -> dict[int, list[str]]:
    """Per line of a Python file, the reaches its code names: frames, trace functions, the collector's objects,
    linecache, open, sys.modules, a function's code."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    named = sorted((node.lineno, node.end_col_offset or 0, _REACHES[name]) for node in ast.walk(tree)
                   for name in [node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)]
                   if name in _REACHES)
    found: dict[int, list[str]] = {}
    for line, _column, reach in named:  # in the order they are written
        if reach not in found.setdefault(line, []):
            found[line].append(reach)
    return found


def described(reach: Reach) -> str:
    """One reach as `show` prints it."""
    table = BLOCKING if reach.kind in BLOCKING else WARNING
    return f"{reach.where} {table.get(reach.kind, reach.kind).format(target=reach.target)}"

"""pytest plugin that makegreen loads inside the sandbox.

Each report is written as one JSON line and flushed at once, so a run killed by its timeout still leaves the
results it reached. It imports only pytest and the standard library: it runs under whatever Python and pytest
the sandbox image has (pytest 7.2 and newer).
"""
import _thread
import ast
import fnmatch
import hashlib
import hmac
import json
import os
import reprlib
import stat
import sys
import textwrap

LONGREPR_LIMIT = 20000
REPR_CHARS = 160  # one value as the model sees it
STATEMENT_LINES = 8  # the failing statement of a test, as written
LOCALS_SHOWN = 8  # values of a frame's local names shown


def _take_key():
    """The run's key, which makegreen's runner writes to pytest's stdin: read here, when pytest imports this plugin
    (before any conftest or test module is imported, before capturing starts), and kept nowhere a module can
    name. Each record is signed with it; a record the code under test writes into the report cannot be."""
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return b""
        data = b""
        while len(data) < 4096:
            chunk = os.read(0, 256)
            if not chunk:
                break
            data += chunk
        return data.strip()
    except OSError:
        return b""


def _signer(key):
    def sign(text):
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest() if key else ""
    return sign


_SIGN = [_signer(_take_key())]


class _Watch:
    """What the code under test reaches while the tests run, seen through Python's audit hooks (PEP 578) and by
    comparing pytest's, unittest's and this plugin's own functions and classes (and the test modules') with what
    they were: the test files opened, a running test's frame or code read, a trace or profile function installed,
    the runner or the tests changed. Installed when pytest imports this plugin, before any conftest, test module or
    project module is imported; an audit hook cannot be removed. Each reach is attributed to the project's own code
    that caused it (the innermost frame of a project file that is not a test file: the standard library acting on
    its behalf counts as it), and recorded once, with the line; makegreen judges them (agent/honesty/watch.py)."""

    EVENTS = frozenset({"open", "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
                        "sys.monitoring.register_callback",
                        "object.__getattr__", "object.__setattr__", "gc.get_objects", "gc.get_referrers",
                        "gc.get_referents"})
    FRAME_TOOLS = frozenset({"inspect", "traceback"})  # hand their caller frames of the stack: it took them
    READS = frozenset({"f_code", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "__code__"})
    LIMIT = 50  # reaches recorded at most

    def __init__(self):
        self.root = os.getcwd()
        self.patterns = ("test_*.py", "*_test.py")
        self.running = ""  # the test whose phases are under way
        self.found = {}
        self._busy = set()  # threads inside the hook: what it does itself is not watched
        self._kinds = {}
        self._here = os.path.dirname(os.path.abspath(__file__)) + os.sep
        self._taken = []
        self._hot = []  # what decides a test's outcome: compared after each test (the rest at the end)
        self._tests = []

    def configure(self, root, patterns):
        self.root, self.patterns = root, tuple(patterns) or self.patterns
        self._kinds.clear()

    def kind(self, filename):
        """"test" for a test file or conftest, "code" for the project's own code, "" for anything else."""
        found = self._kinds.get(filename)
        if found is None:
            found = ""
            if isinstance(filename, str) and filename and not filename.startswith("<"):
                path = os.path.abspath(filename)
                parts = path.split(os.sep)
                if path.startswith(self.root + os.sep) and not path.startswith(self._here) \
                        and "site-packages" not in parts and "dist-packages" not in parts:
                    name = os.path.basename(path)
                    found = "test" if name == "conftest.py" or any(fnmatch.fnmatch(name, pattern)
                                                                    for pattern in self.patterns) else "code"
            self._kinds[filename] = found
        return found

    def _frame_kind(self, frame):
        return self.kind(frame.f_globals.get("__file__"))

    def _where(self, frame):
        filename = frame.f_globals.get("__file__") or ""
        return "%s:%d" % (_relative_to(self.root, filename), frame.f_lineno)

    def _culprit(self, frame):
        """The innermost frame of the project (test or code) from frame outwards, or None."""
        while frame is not None:
            if self._frame_kind(frame):
                return frame
            frame = frame.f_back
        return None

    def _taker(self, frame):
        """Who took a frame: the first frame outwards that is not inspect's or traceback's."""
        while frame is not None and frame.f_globals.get("__name__") in self.FRAME_TOOLS:
            frame = frame.f_back
        return frame

    def hook(self, event, args):
        if event not in self.EVENTS:
            return
        # the cheap tests first: most events are pytest's and the standard library's own, and reach nothing
        if event == "object.__getattr__":
            if args[1] not in self.READS or args[1] != "__code__" and not self.running:
                return
        elif event == "sys._getframe" or event == "sys._current_frames":
            if not self.running:
                return
        elif event == "open":
            path = args[0]
            if not isinstance(path, (str, bytes)) or self.kind(os.fsdecode(path)) != "test":
                return
        me = _thread.get_ident()
        if me in self._busy or len(self.found) >= self.LIMIT:
            return
        self._busy.add(me)
        try:
            self._seen(event, args, sys._getframe(1))
        except Exception:  # the watch must never change what the code under test does
            pass
        finally:
            self._busy.discard(me)

    def _seen(self, event, args, caller):
        if event == "open":  # of a test file (the hook looked)
            self._record("test-file", _relative_to(self.root, os.fsdecode(args[0])), self._culprit(caller))
        elif event in ("sys._getframe", "sys._current_frames"):
            taker = self._taker(caller)
            frame = args[0] if event == "sys._getframe" else None
            if taker is not None and self._frame_kind(taker) == "code" and self.running:
                self._record("test-frame", self.running, taker)
            elif frame is not None and self._frame_kind(frame) == "test" and self.running:
                self._record("test-frame", self.running, self._culprit(caller))
        elif event == "object.__getattr__":  # of a frame's or a function's code (the hook looked)
            target, name = args[0], args[1]
            if name == "__code__":
                globals_ = getattr(target, "__globals__", None)
                filename = globals_.get("__file__") if isinstance(globals_, dict) else None
                if self.kind(filename) == "test":
                    self._record("test-code", getattr(target, "__qualname__", "?"), self._culprit(caller))
            else:
                frame = getattr(target, name[:2] + "_frame", None) if name != "f_code" else target
                if frame is not None and self._frame_kind(frame) == "test" and self.running:
                    self._record("test-frame", self.running, self._culprit(caller))
        elif event == "object.__setattr__":
            target, name = args[0], args[1]
            if name == "__code__":
                globals_ = getattr(target, "__globals__", None)
                filename = globals_.get("__file__") if isinstance(globals_, dict) else None
                module = globals_.get("__name__", "") if isinstance(globals_, dict) else ""
                if self.kind(filename) == "test":
                    self._record("test-code", getattr(target, "__qualname__", "?"), self._culprit(caller))
                elif _protected(module):
                    self._record("runner", "%s.%s" % (module, getattr(target, "__qualname__", "?")),
                                 self._culprit(caller))
        elif event in ("sys.settrace", "sys.setprofile", "sys.monitoring.register_callback"):
            self._record("trace", event, self._culprit(caller))
        else:  # the garbage collector's objects: every test function, pytest's items, this plugin
            self._record("gc", event, self._culprit(caller))

    def _record(self, kind, target, culprit, where=None):
        """A reach by the project's own code (not by the tests, pytest or the standard library alone)."""
        if where is None:
            if culprit is None or self._frame_kind(culprit) != "code":
                return
            where = self._where(culprit)
        key = (kind, target, where)
        if key not in self.found:
            self.found[key] = {"reach": kind, "target": str(target)[:200], "where": where,
                               "test": self.running}

    # What the audit hooks cannot see: a module's or class's attribute set (pytest's runner, unittest's asserts, a
    # test module's functions). Their functions and classes are taken when this plugin is imported (the test
    # modules' once collected) and compared while the tests run.

    def take(self):
        self._taken = _functions(name for name in list(sys.modules) if _protected(name))
        self._hot = [entry for entry in self._taken if entry[0].startswith(_HOT)]

    def take_tests(self, modules):
        self._tests = _functions(modules)

    def compare(self, end=False):
        """Record each function or class taken that is now gone or replaced by the project's own; at the end (the
        tests' own and the plugins' changes for a test undone), replaced by anything not defined in an installed
        package (pytest's plugins patch pytest for the whole session), and the test modules' functions and
        classes as well."""
        runner, tests = (self._taken, self._tests) if end else (self._hot, ())
        for kind, taken in (("runner", runner), ("test-module", tests)):
            for label, table, key, before in taken:
                now = table.get(key, _MISSING)
                if now is before:
                    continue
                defined = _defined_in(now)
                if now is _MISSING or self.kind(defined[0]) or end and not _installed(defined[0]):
                    where = "%s:%d" % (_relative_to(self.root, defined[0]), defined[1]) if defined[0] else "?"
                    if (kind, label, where) not in self.found and len(self.found) < self.LIMIT:
                        self.found[(kind, label, where)] = {
                            "reach": kind, "target": label, "where": where, "test": self.running,
                            "now": "removed" if now is _MISSING else _repr(now)}

    def reaches(self):
        return list(self.found.values())


_HOT = tuple(name + "." for name in (
    "_pytest.runner", "_pytest.python", "_pytest.reports", "_pytest.unittest", "_pytest.skipping", "_pytest.outcomes",
    "_pytest.main", "_pytest.python_api", "_pytest.assertion.rewrite", "_pytest.assertion.util", "pluggy._callers",
    "pluggy._hooks", "pluggy._manager", "unittest.case", "unittest.result", __name__))


def _protected(name):
    """pytest, pluggy, unittest, builtins and this plugin."""
    return name in ("pytest", "_pytest", "pluggy", "unittest", "builtins", __name__) \
        or name.startswith(("_pytest.", "pluggy.", "unittest."))


def _installed(filename):
    """A file of an installed package (pytest's and its plugins' among them)."""
    parts = os.path.abspath(filename).split(os.sep) if filename else ()
    return "site-packages" in parts or "dist-packages" in parts


def _relative_to(root, filename):
    path = os.path.abspath(filename) if filename else ""
    if path.startswith(root + os.sep):
        return os.path.relpath(path, root).replace(os.sep, "/")
    return path


def _module_of(value):
    module = getattr(value, "__module__", None)
    return module if isinstance(module, str) else ""


def _defined_in(value):
    """(file, line) where a function (or a class's first method) was written; ("", 0) where not known."""
    function = getattr(value, "__func__", value)
    code = getattr(function, "__code__", None)
    if code is not None:
        return code.co_filename, code.co_firstlineno
    module = sys.modules.get(_module_of(value))
    return (getattr(module, "__file__", "") or "", 0) if isinstance(value, type) and module else ("", 0)


_DUNDERS = frozenset({"__import__", "__build_class__", "__init__", "__call__", "__eq__", "__ne__", "__hash__",
                      "__getattr__", "__getattribute__", "__enter__", "__exit__"})


def _functions(names):
    """(label, table, key, value) for each function and class of the named modules (or modules), and each
    attribute of the classes they define: what a run may not replace."""
    taken = []
    for name in names:
        module = sys.modules.get(name) if isinstance(name, str) else name
        table = getattr(module, "__dict__", None)
        if not isinstance(table, dict):
            continue
        name = getattr(module, "__name__", "?")
        for attribute, value in list(table.items()):
            if not (callable(value) or isinstance(value, type)) or attribute.startswith("__") \
                    and attribute not in _DUNDERS:
                continue
            taken.append(("%s.%s" % (name, attribute), table, attribute, value))
            if isinstance(value, type) and value.__module__ == name:
                for key, member in list(vars(value).items()):
                    if (callable(member) or isinstance(member, (staticmethod, classmethod, property))) \
                            and (not key.startswith("__") or key in _DUNDERS):
                        taken.append(("%s.%s.%s" % (name, attribute, key), vars(value), key, member))
    return taken


_WATCH = _Watch()
_WATCH.take()
sys.addaudithook(_WATCH.hook)


def pytest_addoption(parser):
    parser.addoption("--makegreen-report", default=None, help="write makegreen's JSON-lines report here")


def pytest_configure(config):
    _WATCH.configure(str(config.rootpath), config.getini("python_files"))
    path = config.getoption("--makegreen-report")
    if path:
        config.pluginmanager.register(_Reporter(path, str(config.rootpath), _SIGN.pop() if _SIGN else _signer(b"")),
                                      "makegreen-reporter")


def _text(longrepr):
    if longrepr is None:
        return ""
    text = str(longrepr)
    if len(text) > LONGREPR_LIMIT:
        half = LONGREPR_LIMIT // 2
        text = text[:half] + "\n[... %d characters cut ...]\n" % (len(text) - 2 * half) + text[-half:]
    return text


def _crash_message(longrepr):
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return getattr(crash, "message", "") or ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip reports: (path, line, reason)
        return str(longrepr[2])
    return ""


class _Reporter:
    def __init__(self, path, rootdir, sign):
        self._file = open(path, "a", encoding="utf-8")
        self._sign = sign
        self._rootdir = rootdir
        self._collect_exceptions = {}
        self._facts = None  # (nodeid, when, facts) of the report being made, until it is logged
        self._compared = None  # the values of the last `==` that failed in a rewritten assert, until read
        self._sources = {}

    def _write(self, record):
        text = json.dumps(record)  # escapes tabs: the tab before the signature is the line's only one
        signature = self._sign(text)
        self._file.write(text + ("\t" + signature if signature else "") + "\n")
        self._file.flush()

    def _relative(self, filename):
        if not filename:
            return ""
        filename = os.path.abspath(filename)
        if filename.startswith(self._rootdir + os.sep):
            return os.path.relpath(filename, self._rootdir).replace(os.sep, "/")
        return filename

    def pytest_exception_interact(self, node, call, report):
        # Called before pytest_collectreport for the same collector: the only place that sees the exception itself.
        if report.when != "collect" or call.excinfo is None:
            return
        exc = call.excinfo.value
        while exc.__cause__ is not None:  # pytest wraps import and syntax errors in its own CollectError
            exc = exc.__cause__
        origin, line = "", None
        if isinstance(exc, SyntaxError) and exc.filename:
            origin, line = exc.filename, exc.lineno
        else:
            tb = exc.__traceback__
            while tb is not None:
                if not tb.tb_frame.f_code.co_filename.startswith("<"):  # skip importlib's frozen frames
                    origin, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
                tb = tb.tb_next
        self._collect_exceptions[report.nodeid] = {
            "exc_type": type(exc).__name__,
            "exc_bases": [cls.__name__ for cls in type(exc).__mro__],
            "exc_message": str(exc)[:2000],
            "import_name": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
            "origin": self._relative(origin),
            "line": line,
        }

    def pytest_collectreport(self, report):
        if report.failed:
            record = {"event": "collect_error", "nodeid": report.nodeid, "longrepr": _text(report.longrepr)}
            record.update(self._collect_exceptions.pop(report.nodeid, {}))
            self._write(record)

    def pytest_collection_finish(self, session):
        self._write({"event": "collected", "nodeids": [item.nodeid for item in session.items]})
        modules = {id(module): module for module in (getattr(item, "module", None) for item in session.items)
                   if module is not None}
        _WATCH.take_tests(modules.values())

    def pytest_runtest_logstart(self, nodeid, location):
        _WATCH.running = nodeid

    def pytest_runtest_logfinish(self, nodeid, location):
        _WATCH.compare()
        _WATCH.running = ""

    def pytest_assertrepr_compare(self, config, op, left, right):
        # Called by pytest's assertion rewriting as a comparison in an assert fails, with the values themselves:
        # kept (not shown yet) so that a plain `assert f(x) == y` can say both whole, as unittest's methods do.
        if op == "==":
            self._compared = (left, right)
        return None  # pytest's own explanation stays as it is

    def pytest_runtest_makereport(self, item, call):
        # Called for every phase and every subtest, just before its report is logged; the exception itself is seen
        # only here. unittest's own hook (tryfirst) has already put a TestCase's failure into call.excinfo.
        self._facts = None
        compared, self._compared = self._compared, None
        if call.excinfo is None or call.excinfo.errisinstance(_skip_exceptions()):
            return None
        try:
            facts = _Facts(self, item).read(call.excinfo.value, call.excinfo.tb, compared)
        except Exception:  # what the model is shown is a courtesy: never let it break the run's report
            facts = None
        if facts:
            self._facts = (item.nodeid, call.when, facts)
        return None

    def pytest_runtest_logreport(self, report):
        record = {
            "event": "test",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "wasxfail": hasattr(report, "wasxfail"),
            "duration": report.duration,
            "message": _crash_message(report.longrepr)[:2000],
            "longrepr": _text(report.longrepr) if report.outcome != "passed" else "",
        }
        context = getattr(report, "context", None)  # pytest 9's subtests (and unittest's subTest): one per block
        if context is not None and hasattr(context, "kwargs"):
            record["subtest"] = _subtest_label(context)
        if self._facts is not None and self._facts[:2] == (report.nodeid, report.when) and report.failed:
            record["facts"] = self._facts[2]
        self._facts = None
        self._write(record)

    def source(self, filename):
        """A file's text and its parsed tree (None where it does not parse), read once per run."""
        if filename not in self._sources:
            try:
                with open(filename, encoding="utf-8") as handle:
                    text = handle.read()
                self._sources[filename] = (text, ast.parse(text))
            except (OSError, SyntaxError, ValueError):
                self._sources[filename] = None
        return self._sources[filename]

    def pytest_sessionfinish(self, session, exitstatus):
        _WATCH.compare(end=True)
        self._write({"event": "watch", "reaches": _WATCH.reaches()})
        self._write({"event": "finish", "exitstatus": int(exitstatus)})
        self._file.close()


def _skip_exceptions():
    import pytest

    return (pytest.skip.Exception, pytest.xfail.Exception)


def _subtest_label(context):
    parts = [str(context.msg)] if getattr(context, "msg", None) is not None else []
    # pytest 9.2 and later keep each value as its repr already (its __post_init__ makes the report JSON-safe):
    # shown again through repr, 6 would read '6'
    already = hasattr(type(context), "__post_init__")
    parts += ["%s=%s" % (name, str(value)[:REPR_CHARS] if already else _repr(value))
              for name, value in (context.kwargs or {}).items()]
    return ", ".join(parts)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = REPR_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 12
_REPR.maxlevel = 4


def _repr(value):
    """A bounded repr: the code under test's own __repr__ may be long, slow to fail or raise."""
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # its __repr__ is broken: say so rather than fail the report
        text = "<%s object (repr raised %s)>" % (type(value).__name__, type(exc).__name__)
    return text if len(text) <= REPR_CHARS else text[:REPR_CHARS - 1] + "…"


# unittest's assert methods, by the name of their parameters: which holds what the code gave (actual) and which
# what the test expects (expected); the rest (places, delta, msg, …) are shown as they are
_ACTUAL = ("first", "expr1", "expr", "obj", "text", "seq1", "list1", "tuple1", "set1", "d1")
_EXPECTED = ("second", "expr2", "cls", "expected_regex", "unexpected_regex", "seq2", "list2", "tuple2", "set2", "d2")


class _Facts:
    """What a person looks at first when a test fails, read from the exception's traceback where the test ran:
    the test's statement as written, the call under test, the values compared, and where the code under test
    raised (its line and local values)."""

    def __init__(self, reporter, item):
        self._reporter = reporter
        self._test_file = os.path.abspath(str(getattr(item, "path", None) or item.fspath))
        self._item = item

    def read(self, exc, tb, compared=None):
        frames = []
        while tb is not None:
            frames.append((tb.tb_frame, tb.tb_lineno))
            tb = tb.tb_next
        in_test = [i for i, (frame, _) in enumerate(frames) if self._is_test(frame)]
        facts = {}
        if in_test:
            index = in_test[-1]
            frame, line = frames[index]
            facts.update(self._statement(frame, line))
            sides = facts.pop("_compare", None)
            check = self._check(frames[index + 1:], facts)
            if check:
                facts.update(check)
            elif sides and compared is not None and index == len(frames) - 1 \
                    and isinstance(exc, AssertionError):  # the test's own `assert actual == expected` failed
                facts.update(_plain_equal(sides, compared))
            facts["locals"] = _locals(frame, skip=("self", "@py"))
        params = getattr(getattr(self._item, "callspec", None), "params", None)
        if params:
            facts["params"] = [[name, _repr(value)] for name, value in params.items()]
        raised = self._raised(frames, in_test[-1] if in_test else -1)
        if raised:
            facts["raised"] = raised
        facts["exception"] = _explained(exc)
        return facts

    def _is_test(self, frame):
        return os.path.abspath(frame.f_code.co_filename) == self._test_file

    def _project(self, filename):
        """A file of the project under test: inside the rootdir, not the tests', not an installed package's."""
        path = os.path.abspath(filename)
        root = self._reporter._rootdir + os.sep
        return path.startswith(root) and path != self._test_file and "site-packages" not in path \
            and os.sep + "_pytest" + os.sep not in path

    def _statement(self, frame, line):
        found = self._reporter.source(frame.f_code.co_filename)
        where = "%s:%d" % (self._reporter._relative(frame.f_code.co_filename), line)
        if found is None:
            return {"where": where, "line": line}
        text, tree = found
        node = _innermost_statement(tree, line)
        lines = text.splitlines()
        if node is None:
            first, last = line, line
        else:
            first, last = node.lineno, node.end_lineno or node.lineno
            body = getattr(node, "body", None)
            if body and not isinstance(node, ast.With) and body[0].lineno > line:  # the header of an if, for, while
                last = body[0].lineno - 1
        if last - first + 1 > STATEMENT_LINES:  # keep the failing line and what leads to it
            first = max(first, line - STATEMENT_LINES // 2)
            last = first + STATEMENT_LINES - 1
        statement = textwrap.dedent("\n".join(lines[first - 1:last]))
        facts = {"where": where, "line": line, "statement": statement}
        if node is not None:
            call = _call_under_test(node, text)
            if call:
                facts["call"] = call
            written = _assert_arguments(node, text)
            if written is not None:
                facts["_written"] = written
            sides = _equal_sides(node, text)
            if sides is not None:
                facts["_compare"] = sides
        return facts

    def _check(self, deeper, facts):
        """The unittest assert method (or assertRaises' context) that failed, with the values it compared."""
        written = facts.pop("_written", ([], {}))
        found = None
        for frame, _ in deeper:
            if os.path.basename(os.path.dirname(frame.f_code.co_filename)) != "unittest":
                continue
            name = frame.f_code.co_name
            if name == "__exit__" and hasattr(frame.f_locals.get("self"), "expected"):
                context = frame.f_locals["self"]  # assertRaises (as a context, or given the callable) failed
                check = {"check": "assertRaises", "expected": _exception_name(context.expected)}
                pattern = getattr(context, "expected_regex", None)
                if pattern is not None:
                    check["match"] = _repr(getattr(pattern, "pattern", pattern))
                return check
            if found is None and name.startswith(("assert", "fail")):
                found = _assert_method(frame, written)
                if not name.startswith(("assertRaises", "assertWarns")):  # else: its context's __exit__ says more
                    return found
        return found

    def _raised(self, frames, test_index):
        """The innermost frame of the project's own code below the test, where the exception came from."""
        for frame, line in reversed(frames[test_index + 1:]):
            if self._project(frame.f_code.co_filename):
                found = self._reporter.source(frame.f_code.co_filename)
                text = found[0].splitlines()[line - 1].strip() if found and line <= len(found[0].splitlines()) else ""
                return {"where": "%s:%d" % (self._reporter._relative(frame.f_code.co_filename), line),
                        "function": frame.f_code.co_name, "source": text, "locals": _locals(frame)}
        return None


_MISSING = object()


def _assert_method(frame, written):
    name, code = frame.f_code.co_name, frame.f_code
    names = [n for n in code.co_varnames[:code.co_argcount] if n != "self"]
    values = [(n, frame.f_locals[n]) for n in names if n in frame.f_locals]
    positional, keywords = written
    written = dict(zip(names, positional), **keywords)  # each parameter's argument as the test wrote it
    check = {"check": name, "args": [[n, written.get(n, ""), _repr(v)] for n, v in values
                                     if v is not None and n != "msg"]}
    actual = next(((n, v) for n, v in values if n in _ACTUAL), None)
    expected = next((v for n, v in values if n in _EXPECTED), _MISSING)
    if actual is not None:
        check["actual"] = _repr(actual[1])
        check["actual_source"] = written.get(actual[0], "")
    if expected is not _MISSING:
        check["expected"] = _repr(expected)
    return check


def _plain_equal(sides, compared):
    """A plain assert's `==` as unittest's assertEqual is said: the side that calls the code under test is what it
    gave, the other what the test expects; only where both values are said whole (a value cut short is better
    told by pytest's own diff)."""
    (left_source, right_source, left_is_actual), (left, right) = sides, compared
    actual_source, actual, expected = (left_source, left, right) if left_is_actual else (right_source, right, left)
    actual, expected = _repr(actual), _repr(expected)
    if any(text.endswith("…") or "..." in text for text in (actual, expected)):
        return {}
    return {"check": "==", "actual": actual, "actual_source": actual_source, "expected": expected}


def _equal_sides(node, text):
    """For `assert a == b` (one comparison, nothing else): each side as written, and whether the left one is what
    the code gave (it calls the code under test, or the right one does not)."""
    test = node.test if isinstance(node, ast.Assert) else None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return None
    left, right = test.left, test.comparators[0]
    sources = []
    for side in (left, right):
        source = ast.get_source_segment(text, side) or ""
        if "\n" in source and hasattr(ast, "unparse"):
            source = ast.unparse(side)
        sources.append(source[:300])
    return sources[0], sources[1], _calls_code(left, text) or not _calls_code(right, text)


def _calls_code(node, text):
    return _call_under_test(node, text) is not None


def _exception_name(cls):
    if isinstance(cls, tuple):
        return " or ".join(_exception_name(c) for c in cls)
    return getattr(cls, "__name__", str(cls))


EXPLANATION_LINES = 12


def _explained(exc):
    """The exception as its message says it (pytest's assertion rewriting, unittest's diffs), bounded."""
    lines = [line[:300] for line in str(exc).strip().splitlines()]
    if len(lines) > EXPLANATION_LINES:
        lines = lines[:EXPLANATION_LINES - 1] + ["… (%d more lines)" % (len(lines) - EXPLANATION_LINES + 1)]
    name = type(exc).__name__
    return "%s: %s" % (name, "\n".join(lines)) if lines else name


def _locals(frame, skip=("self",)):
    """A frame's local values, bounded: modules, functions and classes are not values a reader needs."""
    found = []
    for name, value in list(frame.f_locals.items()):
        if name.startswith(skip) or name.startswith("__") or callable(value) and not hasattr(value, "__len__") \
                or type(value).__name__ == "module":
            continue
        found.append([name, _repr(value)])
        if len(found) == LOCALS_SHOWN:
            break
    return found


def _innermost_statement(tree, line):
    """The innermost statement that holds line (a compound statement's header where line is in it)."""
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if best is None or node.lineno >= best.lineno and (node.end_lineno or 0) <= (best.end_lineno or 0):
                best = node
    return best


_NOT_UNDER_TEST = ("self", "pytest", "unittest", "len", "list", "set", "tuple", "dict", "sorted", "str", "int",
                   "float", "repr", "isinstance", "type", "range", "print", "round", "abs", "any", "all")


def _assert_arguments(node, text):
    """For a statement that calls an assert method (self.assertEqual(...)): its arguments as written, positional
    and by keyword."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute) \
            or not call.func.attr.startswith(("assert", "fail")):
        return None
    def segment(value):
        source = ast.get_source_segment(text, value) or ""
        if "\n" in source and hasattr(ast, "unparse"):
            source = ast.unparse(value)
        return source[:300]

    return [segment(arg) for arg in call.args], {k.arg: segment(k.value) for k in call.keywords if k.arg}


def _call_under_test(node, text):
    """The first call in the statement to something other than the test's own tools, as written."""
    for call in sorted((n for n in ast.walk(node) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset)):
        func = call.func
        while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
            func = func.value if not isinstance(func, ast.Call) else func.func
        if isinstance(func, ast.Name) and func.id not in _NOT_UNDER_TEST:
            source = ast.get_source_segment(text, call) or ""
            if "\n" in source and hasattr(ast, "unparse"):  # a call over several lines, said on one
                source = ast.unparse(call)
            return source if len(source) <= 300 else source[:299] + "…"
    return None

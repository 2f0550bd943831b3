"""pytest plugin that makegreen loads inside the sandbox.

Each report is written as one JSON line and flushed at once, so a run killed by its timeout still leaves the
results it reached. It imports only pytest and the standard library: it runs under whatever Python and pytest
the sandbox image has (pytest 7.2 and newer).
"""
import hashlib
import hmac
import json
import os
import stat

LONGREPR_LIMIT = 20000


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


def pytest_addoption(parser):
    parser.addoption("--makegreen-report", default=None, help="write makegreen's JSON-lines report here")


def pytest_configure(config):
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

    def pytest_runtest_logreport(self, report):
        self._write({
            "event": "test",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "wasxfail": hasattr(report, "wasxfail"),
            "duration": report.duration,
            "message": _crash_message(report.longrepr)[:2000],
            "longrepr": _text(report.longrepr) if report.outcome != "passed" else "",
        })

    def pytest_sessionfinish(self, session, exitstatus):
        self._write({"event": "finish", "exitstatus": int(exitstatus)})
        self._file.close()

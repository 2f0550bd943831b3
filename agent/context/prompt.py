"""The messages sent to the model, assembled from the templates in prompts/."""
from __future__ import annotations

from sandbox import RunResult

from ..edits import EditOutcome
from ..prompting import render
from ..workspace import Workspace
from .failures import counts, describe
from .imports import needed_files

WHOLE_FILE_LINES = 300  # beyond this, asking for whole files costs too many output tokens: use SEARCH/REPLACE


def _file_block(path: str, content: bytes) -> str:
    language = "python" if path.endswith(".py") else ""
    return render("file.md", path=path, language=language, content=content.decode("utf-8", "replace").rstrip("\n"))


def choose_format(requested: str, sources: dict[str, bytes]) -> str:
    if requested != "auto":
        return requested
    longest = max((content.count(b"\n") for content in sources.values()), default=0)
    return "search-replace" if longest > WHOLE_FILE_LINES else "whole"


def first_messages(workspace: Workspace, baseline: RunResult, test_files: list[str], message: str,
                   edit_format: str) -> list[dict[str, str]]:
    """The system prompt and the task: failing tests, the tests' code, the code they import, the failures."""
    files = workspace.files()
    report = baseline.report
    known_missing = {e.import_name.split(".")[0] for e in report.collect_errors if e.import_name}
    needs = needed_files(test_files, files, known_missing)
    sources = {path: files[path] for path in needs.sources}
    chosen = choose_format(edit_format, sources)
    failing = [case.nodeid for case in report.failing] + [error.nodeid for error in report.collect_errors]
    system = render("system.md", edit_format=render(
        "format_whole.md" if chosen == "whole" else "format_search_replace.md"))
    task = render(
        "task.md",
        failing_tests="\n".join(f"- {nodeid}" for nodeid in failing),
        user_message=render("user_message.md", message=message) if message else "",
        test_files="\n\n".join(_file_block(path, files[path]) for path in test_files if path in files),
        source_files="\n\n".join(_file_block(path, content) for path, content in sources.items())
        or "(none yet)",
        missing_files=render("missing_files.md", modules="\n".join(
            f"- `{module}` → {path}" for module, path in needs.missing)) if needs.missing else "",
        failures=describe(baseline),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": task}]


def feedback_message(outcome: EditOutcome, result: RunResult) -> str:
    parts = []
    if outcome.changed:
        parts.append(render("applied.md", paths=", ".join(outcome.changed)))
    parts += [render("refused.md", path=r.path, reason=r.reason) for r in outcome.refused]
    parts += [render("search_miss.md", number=m.number, path=m.path, reason=m.reason, line=m.line,
                     closest=m.closest or "(the file is empty or missing)") for m in outcome.misses]
    if not outcome.found:
        parts.append(render("no_edits.md"))
    return render("feedback.md", edit_report="\n".join(parts), counts=counts(result.report),
                  failures=describe(result), next_step=render("next_step.md"))

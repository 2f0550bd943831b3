"""The messages sent to the model, assembled from the templates in prompts/."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from sandbox import RunResult, TestReport

from ..core.prompting import render
from ..honesty.claims import SENTINEL, contradictions
from ..workspace.edits import EditOutcome
from ..workspace.snapshot import Workspace
from .conversation import Message, Prompt
from .failures import Failures, counts
from .history import Attempt
from .imports import needed_files
from .repomap import FactsCache, rank
from .repomap import render as render_map
from .requirements import render_requirements, requirements, unmet

WHOLE_FILE_LINES = 300  # beyond this, asking for whole files costs too many output tokens: use SEARCH/REPLACE


def file_block(path: str, content: bytes) -> str:
    language = "python" if path.endswith(".py") else ""
    return render("file.md", path=path, language=language, content=content.decode("utf-8", "replace").rstrip("\n"))


def choose_format(requested: str, sources: dict[str, bytes]) -> str:
    if requested != "auto":
        return requested
    longest = max((content.count(b"\n") for content in sources.values()), default=0)
    return "search-replace" if longest > WHOLE_FILE_LINES else "whole"


@dataclass(frozen=True)
class Shape:
    """How the model is to write its answer: the edit format, and the file the task expects when there is just
    one (a block with no path is taken for it; the format's example names it, so no made-up path can be copied)."""

    format: str = "whole"  # whole or search-replace
    path: str | None = None
    example: str | None = None  # the file the format's example names (None: the templates say "the file's path")


def answer_shape(files: Mapping[str, bytes], test_files: Sequence[str], report: TestReport,
                 edit_format: str) -> Shape:
    """The format and the expected file for a task: the one file to create or change, when the tests import
    just one module of the project (a package's __init__.py aside) and it is that one."""
    known_missing = {e.import_name.split(".")[0] for e in report.collect_errors if e.import_name}
    needs = needed_files(list(test_files), files, known_missing)
    sources = {path: files[path] for path in needs.sources}
    to_create = [path for _, path in needs.missing]
    modules = [path for path in sources if posixpath.basename(path) != "__init__.py"]
    expected = list(dict.fromkeys(to_create + modules))
    unique = expected[0] if len(expected) == 1 else None
    return Shape(choose_format(edit_format, sources), unique, (expected or list(sources) or [None])[0])


def claim_rule() -> str:
    return render("claim_rule.md", sentinel=SENTINEL)


def answer_format(shape: Shape) -> str:
    if shape.format == "whole":
        return render("format_whole.md", path=shape.example, one=shape.path is not None).rstrip("\n")
    return render("format_search_replace.md", path=shape.example).rstrip("\n")


@dataclass(frozen=True)
class ContextLimits:
    prompt_tokens: int = 100_000  # the model's window, less what its answer and thinking may use
    repo_map_tokens: int = 2_000
    cache_path: Path | None = None


@dataclass(frozen=True)
class Files:
    """File blocks (prompts/file.md), most relevant first; droppable ones lose their last file at stage
    "sources"."""

    files: tuple[tuple[str, bytes], ...]
    droppable: bool = False

    def render(self) -> str:
        return "\n\n".join(file_block(path, content) for path, content in self.files)

    def smaller(self, stage: str) -> "Files | None":
        return Files(self.files[:-1], True) if stage == "sources" and self.droppable and self.files else None


@dataclass(frozen=True)
class RepoMap:
    """The ranked signatures of the rest of the repository, within tokens; gone at stage "map"."""

    ranked: tuple[tuple[str, float], ...]  # (path, rank), most relevant first
    facts: Mapping[str, object]
    shown: frozenset[str]
    tokens: int

    def render(self) -> str:
        return render_map(list(self.ranked), self.facts, set(self.shown), self.tokens) if self.tokens else ""

    def smaller(self, stage: str) -> "RepoMap | None":
        return RepoMap(self.ranked, self.facts, self.shown, 0) if stage == "map" and self.tokens else None


def first_messages(workspace: Workspace, baseline: RunResult, test_files: list[str], *, message: str,
                   edit_format: str, limits: ContextLimits = ContextLimits(), shown: Mapping[str, bytes] = {},
                   now: "Now | None" = None, tests_hidden: bool = False) -> Prompt:
    """The system prompt and the task: the tests, what they require, the code they import as it is now, what is
    still to be written, a ranked map of the rest of the repository; then the state (now: the first request's
    where None): what was tried, the failures, what became of the last answer, the ask. Over the prompt budget,
    shrink.py drops the least relevant first (the map, then the lowest-ranked source files). shown replaces files
    as the model is to see them (test files without their held-out tests); tests_hidden: the model sees none of
    the tests' code (--hide-tests), so the failures are all it knows of them. now.draft: a second first draft
    instead (prompts/draft.md: the ask first, the code before any attempt, the tests, the format in one sentence),
    where one file is expected whole and the tests are shown."""
    current = workspace.current()
    files = {**current, **shown}
    report = baseline.report
    known_missing = {e.import_name.split(".")[0] for e in report.collect_errors if e.import_name}
    # what the tests import is read from the tests as written, so that hidden tests still bring in the code
    # they exercise
    needs = needed_files(test_files, current, known_missing)
    cache = FactsCache(limits.cache_path)
    facts = {path: found for path, content in files.items() if (found := cache.facts(path, content)) is not None}
    cache.save()
    tests = [path for path in test_files if path in files]
    conftests = sorted(path for path in files if posixpath.basename(path) == "conftest.py"
                       and any(t.startswith(posixpath.dirname(path)) for t in tests))
    fixtures = {name: path for path in conftests for name in facts[path].fixtures_defined}
    roots = {module.split(".")[0] for module, _ in needs.missing} | known_missing
    project = {(p[4:] if p.startswith("src/") else p).split("/")[0].removesuffix(".py") for p in files}
    required = unmet(requirements({path: facts[path] for path in tests if path in facts}, fixtures,
                                  lambda module: module.split(".")[0] in project | roots),
                     {path: facts[path] for path in needs.sources if path in facts}, current)
    shape = answer_shape(workspace.files(), test_files, report, edit_format)
    # the way to claim a contradiction is told only where makegreen's own check sees one: small models echo
    # whatever the instructions name, and claim it on tasks with none (later feedback tells it when a run is stuck)
    conflicting = contradictions({path: files[path] for path in tests})
    system = Message("system", "system.md", {"claims": claim_rule() if conflicting else ""})
    ranked = rank(facts, {**{path: 1.0 for path in tests}, **{path: 0.5 for path in needs.sources}})
    now = now or Now(baseline)
    if now.draft and shape.format == "whole" and shape.path and not tests_hidden:
        original = workspace.files()
        return Prompt(system, Message("user", "draft.md", {
            "message": message, "path": shape.path, "tests": tests,
            "source_files": Files(tuple((path, original[path]) for path in needs.sources if path in original),
                                  droppable=True),
            "test_files": Files(tuple((path, files[path]) for path in [*tests, *conftests])),
        }), Message("user", "draft_format.md", {"path": shape.path}))
    # a line that repeats its code is shown the code as it was before any attempt: shown the code it wrote, the
    # real model wrote it again, word for word, whatever it was asked (whole files only: SEARCH parts must match)
    anew = now.anew and shape.format == "whole"
    code = {**(workspace.files() if anew else current), **shown}
    task = Message("user", "task.md", {
        "message": message,
        "requirements": render_requirements(required) if required else "",
        "test_files": Files(tuple((path, files[path]) for path in [*tests, *conftests])),
        "source_files": Files(tuple((path, code[path]) for path in needs.sources if path in code), droppable=True),
        "missing": [{"module": module, "path": path} for module, path in needs.missing],
        "repo_map": RepoMap(tuple(ranked), facts, frozenset([*tests, *conftests, *needs.sources]),
                            limits.repo_map_tokens),
    })
    failures = Failures(now.result, now.previous)
    # the first request against a stub: its failures (every call giving None) say nothing the tests do not, and
    # shown them, the local default model wrote worse first answers (docs/bench.md): they are left out — unless
    # the tests are hidden, when they are all the model knows of them
    quiet = now.first and not tests_hidden and failures.told_by_the_tests
    state = Message("user", "state.md", {
        "attempts": list(now.attempts), "counts": counts(now.result.report),
        "failures": "" if quiet else failures, "feedback": now.feedback, "first": now.first,
        "anew": anew,
        "work_through": work_through(now.result.report) if now.stuck else "",
        "answer_format": answer_format(shape),
    })
    return Prompt(system, task, state)


@dataclass(frozen=True)
class Now:
    """Where a line stands, as its next prompt tells it: the tests' result for the code as it is now (previous:
    the run before the last answer, to say what that answer fixed and broke), the earlier attempts summarised,
    what became of the last answer (prompts/feedback.md, rendered), and whether it is stuck (the ask is then to
    work the failing case through by hand)."""

    result: RunResult
    previous: TestReport | None = None
    attempts: tuple[Attempt, ...] = ()
    feedback: str = ""
    stuck: bool = False
    anew: bool = False  # the code is shown as it was before any attempt, to be written anew (it repeats itself)
    draft: bool = False  # a second first draft: the code before any attempt and the tests, asked in other words

    @property
    def first(self) -> bool:
        return not (self.attempts or self.feedback)


def work_through(report: TestReport) -> str:
    """The ask of a stuck line: the first failing case worked through by hand, before any code."""
    facts = next((case.facts[0] for case in report.failing if case.facts), None)
    call = (facts.actual_source or facts.call) if facts else ""
    return render("work_through.md", call=call, expected=facts.expected or "" if facts else "",
                  actual=facts.actual or "" if facts else "").rstrip("\n")


def feedback_message(outcome: EditOutcome, lost: Sequence[str] = (), shape: Shape = Shape(),
                     notes: Sequence[str] = (), anew: bool = False, *, undone: bool = False) -> str:
    """What became of the model's last answer (prompts/feedback.md): notes first (a claim that was not confirmed,
    a change undone), then its edits applied, refused or missed, and the tests it made vanish. anew: the prompt
    shows the code as it was before any attempt, not the code the edits made; undone: the edits were applied and
    then undone as worse (a note says so), so they are not said to be applied."""
    return render("feedback.md", notes=[note.rstrip("\n") for note in notes],
                  changed=list(outcome.changed), undone=undone, anew=anew and shape.format == "whole",
                  refused=list(outcome.refused), misses=list(outcome.misses), found=outcome.found,
                  lost=render("lost_tests.md", tests=list(lost)).rstrip("\n") if lost else "",
                  format=shape.format, example=shape.example).rstrip("\n")

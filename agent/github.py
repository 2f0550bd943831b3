"""makegreen as a GitHub Action (action.yml runs `makegreen github`): read the event, check who asked, run
`makegreen solve --json`, write the job summary and the step's outputs, then commit, open a pull request, or
comment, as the mode says.

Untrusted text (titles, bodies, comments) reaches this code through the event file and environment variables
only, never through `${{ }}` in a shell script, and is never executed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError, RemoteError

MODES = ("commit", "pull-request", "comment")
COMMAND = "/makegreen"
WRITERS = ("admin", "maintain", "write")
SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024  # GitHub refuses a step summary over 1 MiB: keep well under
COMMENT_LIMIT = 60_000  # a comment holds 65,536 characters
NOTHING = {"solved": "false", "iterations": "0", "cost": "", "patch": ""}  # the outputs when nothing ran
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class GitHubError(RemoteError):
    """The GitHub API or git push refused what the action asked."""


@dataclass
class Inputs:
    """The action's inputs, as action.yml hands them over (INPUT_* variables; empty means unset)."""

    mode: str = "comment"
    tests: list[str] = field(default_factory=list)
    message: str = ""
    max_iterations: str = ""
    candidates: str = ""
    budget_usd: str = ""
    token: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Inputs":
        def get(name: str) -> str:
            return env.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()

        mode = get("mode") or "comment"
        if mode not in MODES:
            raise ConfigError(f"input mode must be one of {', '.join(MODES)}, not {mode!r}")
        return cls(mode, get("tests").split(), get("message"), get("max-iterations"), get("candidates"),
                   get("budget-usd"), get("github-token"))


@dataclass
class Event:
    name: str
    payload: dict[str, Any]
    repository: str
    actor: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Event":
        path = env.get("GITHUB_EVENT_PATH")
        payload = json.loads(Path(path).read_text(encoding="utf-8")) if path and Path(path).is_file() else {}
        return cls(env.get("GITHUB_EVENT_NAME", ""), payload, env.get("GITHUB_REPOSITORY", ""),
                   env.get("GITHUB_ACTOR", ""))

    @property
    def number(self) -> int | None:
        """The pull request (or issue) this run is about."""
        item = self.payload.get("pull_request") or self.payload.get("issue") or {}
        return item.get("number")

    @property
    def same_repository(self) -> bool:
        """Whether the pull request's branch lives in this repository (a fork's cannot be pushed to)."""
        head = (self.payload.get("pull_request") or {}).get("head") or {}
        return (head.get("repo") or {}).get("full_name") == self.repository

    def command(self) -> str | None:
        """For a comment: the text after /makegreen (the user's message), or None when it is not a command."""
        body = (self.payload.get("comment") or {}).get("body") or ""
        first, _, rest = body.strip().partition("\n")
        if first.split()[:1] != [COMMAND]:
            return None
        return (first[len(COMMAND):].strip() + "\n" + rest).strip()


class Api:
    """The few REST calls the action makes, with the job's token."""

    def __init__(self, base: str, repository: str, token: str) -> None:
        self.base = base.rstrip("/")
        self.repository = repository
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.base}/repos/{self.repository}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
                     "User-Agent": "makegreen"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise GitHubError(f"GitHub refused {method} {path}: {exc.code} {detail}") from None
        except urllib.error.URLError as exc:
            raise GitHubError(f"GitHub's API at {self.base} is unreachable: {exc.reason}") from None

    def can_write(self, user: str) -> bool:
        found = self.call("GET", f"/collaborators/{user}/permission")
        return found.get("permission") in WRITERS or found.get("role_name") in WRITERS


def solve_argv(inputs: Inputs, message: str, extra: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "agent", "solve", "--json", *inputs.tests]
    for flag, value in (("--max-iterations", inputs.max_iterations), ("--candidates", inputs.candidates),
                        ("--budget-usd", inputs.budget_usd), ("-m", message)):
        if value:
            argv += [flag, value]
    return argv + extra


def job_summary(summary: dict[str, Any], mode: str, where: str) -> str:
    """The step summary in Markdown: result, tests before and after, cost, and the diff folded; under 1 MiB."""
    def counts(tests: Mapping[str, int] | None) -> str:
        return ", ".join(f"{value} {key}" for key, value in (tests or {}).items() if value) or "-"

    usage = summary.get("usage") or {}
    cost = summary.get("cost_usd")
    lines = [f"## makegreen: {_headline(summary)}", "",
             "| | |", "|---|---|",
             f"| tests before | {counts(summary.get('tests_before'))} |",
             f"| tests after | {counts(summary.get('tests'))} |",
             f"| iterations | {summary.get('iterations', 0)} |",
             f"| model | `{summary.get('model', '')}` |",
             f"| tokens | {usage.get('prompt_tokens', 0)} prompt, {usage.get('completion_tokens', 0)} output |",
             f"| cost | {'-' if cost is None else f'${cost:.4f}'} |",
             f"| time | {summary.get('seconds', 0):.1f} s |",
             f"| {mode} | {where or '-'} |", ""]
    if summary.get("reason"):
        lines += [f"Stopped: {summary['reason']}", ""]
    if summary.get("message"):
        lines += [summary["message"], ""]
    text = "\n".join(lines)
    diff = summary.get("diff") or ""
    if diff:
        room = SUMMARY_LIMIT - len(text.encode()) - 200
        shown = diff if len(diff.encode()) <= room else diff.encode()[:room].decode(errors="ignore") + \
            "\n… (cut: the whole patch is in the run's record and the `patch` output)\n"
        text += f"<details><summary>The change ({len(diff.splitlines())} diff lines)</summary>\n\n" \
                f"```diff\n{shown}```\n</details>\n"
    return text


def _headline(summary: dict[str, Any]) -> str:
    from .ui.summary import headline

    return headline(summary)


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for key, value in values.items():
            out.write(f"{key}={value}\n")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise GitHubError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def comment_body(summary: dict[str, Any], patch: str) -> str:
    head = (f"**makegreen**: {_headline(summary)} — {summary.get('iterations', 0)} iteration(s), tests "
            + ", ".join(f"{v} {k}" for k, v in (summary.get("tests") or {}).items() if v) + ".\n\n")
    if not patch:
        return head + (summary.get("reason") or "No change to propose.")
    if len(patch) > COMMENT_LIMIT:
        patch = patch[:COMMENT_LIMIT] + "\n… (cut: the whole patch is in the workflow run's summary)\n"
    return head + "Apply it with `git apply` (copy the block into a file):\n\n```diff\n" + patch + "```\n"


def run(env: Mapping[str, str], cwd: Path, say: Callable[[str], None]) -> int:
    """The action's whole job; returns the exit status (the solve's, unless the action itself failed)."""
    inputs, event = Inputs.from_env(env), Event.from_env(env)
    api = Api(env.get("GITHUB_API_URL", "https://api.github.com"), event.repository, inputs.token)
    message = inputs.message
    if event.name == "issue_comment":
        command = event.command()
        if command is None:
            say("makegreen: the comment is not a /makegreen command: nothing to do")
            write_outputs(env.get("GITHUB_OUTPUT"), NOTHING)
            return 0
        if not event.payload.get("issue", {}).get("pull_request"):
            raise ConfigError("/makegreen works in pull request comments; this is an issue")
        if inputs.mode != "comment":
            raise ConfigError(f"a /makegreen comment is answered with a comment (mode comment), not mode "
                              f"{inputs.mode}: the comment's checkout is the pull request's head, detached")
        if not api.can_write(event.actor):
            say(f"::warning::makegreen: {event.actor} may not run /makegreen here (write access needed)")
            write_outputs(env.get("GITHUB_OUTPUT"), NOTHING)
            return 0
        message = "\n\n".join(part for part in (message, command) if part)
    if inputs.mode == "commit" and event.payload.get("pull_request") and not event.same_repository:
        raise ConfigError("mode commit pushes to the pull request's branch, and this one lives in a fork: use "
                          "mode comment or pull-request")
    branch = f"makegreen/run-{env.get('GITHUB_RUN_ID', 'local')}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    extra = {"commit": ["--commit"], "pull-request": ["--branch", branch], "comment": ["--no-apply"]}[inputs.mode]
    # the repository token stays with the action: the solve (and the code it runs) has no use for it
    child_env = {key: value for key, value in {**env, **_identity(cwd, env)}.items()
                 if key not in ("GITHUB_TOKEN", "INPUT_GITHUB_TOKEN")}
    done = subprocess.run(solve_argv(inputs, message, extra), cwd=cwd, env=child_env, stdout=subprocess.PIPE,
                          text=True)
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise GitHubError(f"makegreen solve ended with exit {done.returncode} and no summary (see the log above)")
    solved = summary.get("status") in ("green", "already_green")
    patch_file = _patch_file(cwd, summary)
    where, failed = "", None
    if summary.get("status") == "green":
        try:
            where = _deliver(inputs.mode, summary, patch_file, branch, event, api, cwd, env)
        except GitHubError as exc:  # the summary and outputs are still written: the fix is in the patch output
            where, failed = f"failed: {exc}", exc
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(job_summary(summary, inputs.mode, where))
    cost = summary.get("cost_usd")
    write_outputs(env.get("GITHUB_OUTPUT"), {
        "solved": "true" if solved else "false", "iterations": str(summary.get("iterations", 0)),
        "cost": "" if cost is None else f"{cost:.6f}", "patch": patch_file})
    say(f"makegreen: {_headline(summary)}" + (f"; {where}" if where else ""))
    if failed is not None:
        raise failed
    return done.returncode


def _identity(cwd: Path, env: Mapping[str, str]) -> dict[str, str]:
    """A commit author for runners that have none configured: the Actions bot, as GitHub's own actions do."""
    configured = subprocess.run(["git", "config", "user.email"], cwd=cwd, capture_output=True, text=True)
    if configured.stdout.strip() or env.get("GIT_AUTHOR_EMAIL"):
        return {}
    name, email = BOT
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def _patch_file(cwd: Path, summary: dict[str, Any]) -> str:
    run_dir = cwd / summary.get("run_dir", "")
    for name in ("changes.patch", "best-attempt.patch"):
        if (run_dir / name).is_file():
            return os.path.relpath(run_dir / name, cwd)
    return ""


def _deliver(mode: str, summary: dict[str, Any], patch_file: str, branch: str, event: Event, api: Api, cwd: Path,
             env: Mapping[str, str]) -> str:
    """Push, open a pull request, or comment; says where the fix went."""
    if mode == "commit":
        target = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or summary.get("branch", "")
        _git(cwd, "push", "origin", f"HEAD:refs/heads/{target}")
        return f"pushed {summary.get('commit', '')[:12]} to {target}"
    if mode == "pull-request":
        base = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", "")
        _git(cwd, "push", "origin", f"HEAD:refs/heads/{branch}")
        tests = summary.get("turned_green") or []
        created = api.call("POST", "/pulls", {
            "title": f"makegreen: make {len(tests)} test{'s' if len(tests) != 1 else ''} pass", "head": branch,
            "base": base, "body": comment_body(summary, "") + "\n\n" + _fenced(summary.get("diff", ""))})
        return f"opened {created.get('html_url') or '#' + str(created.get('number'))}"
    number = event.number
    if number is None:
        return "no pull request to comment on: the patch is in the summary below"
    patch = (cwd / patch_file).read_text(encoding="utf-8") if patch_file else summary.get("diff", "")
    created = api.call("POST", f"/issues/{number}/comments", {"body": comment_body(summary, patch)})
    return f"commented {created.get('html_url') or 'on #' + str(number)}"


def _fenced(diff: str) -> str:
    if len(diff) > COMMENT_LIMIT:
        diff = diff[:COMMENT_LIMIT] + "\n… (cut)\n"
    return f"```diff\n{diff}```" if diff else ""


"""makegreen as a GitHub Action (action.yml runs `makegreen github`): read the event, check who asked, run
`makegreen solve --json`, write the job summary and the step's outputs, then commit, open a pull request, or
comment, as the mode says.

Every event is treated as hostile. Untrusted text (titles, bodies, comments) reaches this code through the event
file and environment variables only, never through `${{ }}` in a shell script, and is never executed. The checkout
is untrusted: the solve runs with --untrusted (its pyproject.toml may not pick the backend, the sandbox, limits or
budgets; the local sandbox is refused), without the repository token or the runner's own tokens, and the model may
not touch CI files. A fork's code under pull_request_target or workflow_run is refused unless the maintainer opts
in; a /makegreen comment runs on the head it was written against or not at all; nothing is pushed to the default
branch or a protected one, and pushes use the github-token input, not what the checkout left in .git/config.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from .. import LAUNCH
from ..core.errors import ConfigError, RemoteError
from ..core.words import plural, count_tests
from ..run.status import Status
from ..run.summary import RunSummary

MODES = ("commit", "pull-request", "comment")
COMMAND = "/makegreen"
WRITERS = ("admin", "maintain", "write")
SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024  # GitHub refuses a step summary over 1 MiB: keep well under
COMMENT_LIMIT = 60_000  # a comment holds 65,536 characters
NOTHING = {"solved": "false", "iterations": "0", "cost": "", "patch": ""}  # the outputs when nothing ran
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
# Events that run in the base repository's context (its secrets, a write token) whatever the head's origin.
PRIVILEGED_EVENTS = ("pull_request_target", "workflow_run")
# The runner's credentials: the solve, and so the code it runs, gets none of them.
SECRETS = ("GITHUB_TOKEN", "INPUT_GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
           "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RUNTIME_URL", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL")


class GitHubError(RemoteError):
    """The GitHub API or git push refused what the action asked."""


class Refused(ConfigError):
    """The action will not run on this event; the reason goes to the log, the job summary and, where a comment
    asked for the run, a reply."""

    def __init__(self, reason: str, reply: bool = False) -> None:
        super().__init__(reason)
        self.reply = reply


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
    budget_tokens: str = ""
    allow_fork_code: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Inputs":
        def get(name: str) -> str:
            return env.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()

        mode = get("mode") or "comment"
        if mode not in MODES:
            raise ConfigError(f"input mode must be one of {', '.join(MODES)}, not {mode!r}")
        allow = get("allow-fork-code").lower() or "false"
        if allow not in ("true", "false"):
            raise ConfigError(f"input allow-fork-code must be true or false, not {allow!r}")
        return cls(mode, get("tests").split(), get("message"), get("max-iterations"), get("candidates"),
                   get("budget-usd"), get("github-token"), get("budget-tokens"), allow == "true")


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
    def head_repository(self) -> str | None:
        """Where the code under test comes from: a pull request's head, or the run a workflow_run follows."""
        if self.payload.get("pull_request"):
            head = self.payload["pull_request"].get("head") or {}
            return (head.get("repo") or {}).get("full_name") or ""
        if self.payload.get("workflow_run"):
            return (self.payload["workflow_run"].get("head_repository") or {}).get("full_name") or ""
        return None

    @property
    def same_repository(self) -> bool:
        """Whether the head's branch lives in this repository (a fork's cannot be pushed to, nor trusted)."""
        return self.head_repository in (None, self.repository)

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

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """A call about this repository: path is what follows /repos/OWNER/NAME."""
        return self.request(method, f"/repos/{self.repository}{path}", body)

    def request(self, method: str, path: str, body: dict | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}", method=method,
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
    argv = [sys.executable, "-c", LAUNCH, "solve", "--json", "--untrusted", *inputs.tests]
    for flag, value in (("--max-iterations", inputs.max_iterations), ("--candidates", inputs.candidates),
                        ("--budget-usd", inputs.budget_usd), ("--budget-tokens", inputs.budget_tokens),
                        ("-m", message)):
        if value:
            argv += [flag, value]
    return argv + extra


def job_summary(summary: RunSummary, mode: str, where: str) -> str:
    """The step summary in Markdown: result, tests before and after, cost, what was refused, and the diff folded;
    under 1 MiB."""
    def counts(tests: Mapping[str, int] | None) -> str:
        return count_tests(tests, "-")

    usage = summary.usage
    cost = summary.cost_usd
    lines = [f"## makegreen: {_headline(summary)}", "",
             "| | |", "|---|---|",
             f"| tests before | {counts(summary.tests_before)} |",
             f"| tests after | {counts(summary.tests)} |",
             f"| iterations | {summary.iterations} |",
             f"| model | `{summary.model}` |",
             f"| tokens | {usage.get('prompt_tokens', 0)} prompt, {usage.get('completion_tokens', 0)} output |",
             f"| cost | {'-' if cost is None else f'${cost:.4f}'} |",
             f"| time | {summary.seconds or 0:.1f} s |",
             f"| {mode} | {_cell(where) or '-'} |", ""]
    if summary.reason:
        lines += [f"Stopped: {summary.reason}", ""]
    if summary.message and not (mode == "comment" and summary.status == Status.GREEN):
        lines += [summary.message, ""]  # comment mode's "the patch is in <a file on the runner>" helps no one
    lines += [refusals(summary)] if refusals(summary) else []
    text = "\n".join(lines)
    diff = summary.diff
    if diff:
        room = SUMMARY_LIMIT - len(text.encode()) - 200
        shown = diff if len(diff.encode()) <= room else diff.encode()[:room].decode(errors="ignore") + \
            "\n… (cut: the whole patch is in the run's record and the `patch` output)\n"
        text += f"<details><summary>The change ({len(diff.splitlines())} diff lines)</summary>\n\n" \
                f"```diff\n{shown}```\n</details>\n"
    return text


def refused_summary(reason: str) -> str:
    return f"## makegreen: refused\n\n{reason}\n"


def refusals(summary: RunSummary) -> str:
    """What the run did not do for safety's sake, in Markdown: the checkout's ignored settings, refused edits."""
    lines = []
    if summary.model_warning:
        lines += [f"Warning — {_cell(summary.model_warning)}", ""]
    if summary.ignored_settings:
        lines += ["The checkout's own settings that were not obeyed (an untrusted checkout may not choose them): "
                  + ", ".join(f"`{_cell(item)}`" for item in summary.ignored_settings), ""]
    if summary.gaming:
        lines += ["Not green, whatever the tests say — the code gamed them:", ""]
        lines += [f"- `{_cell(item)}`" for item in summary.gaming[:10]] + [""]
    if summary.special_cases:
        lines += ["Warning — conditions on values that also appear in the tests (often the specification's own "
                  "constants; review them):", ""]
        lines += [f"- `{_cell(item)}`" for item in summary.special_cases[:10]] + [""]
    if summary.watched:
        lines += ["Warning — while the tests ran, the code reached what could have shown it the tests:", ""]
        lines += [f"- `{_cell(item)}`" for item in summary.watched[:10]] + [""]
    if summary.overfitting:
        lines += ["Warning — overfitting: held-out tests failed on code green on the tests the model saw"
                  + (" (the final code passes them, after they were shown)" if summary.status == Status.GREEN
                     else "") + ":", ""]
        lines += [f"- `{_cell(item)}`" for item in summary.overfitting[:10]] + [""]
    if summary.refused:
        lines += ["Edits the model attempted and makegreen refused (protected paths):", ""]
        lines += [f"- `{_cell(item['path'])}`: {_cell(item['reason'])}" for item in summary.refused[:20]]
        lines += [""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text from a run, safe inside a Markdown table cell or code span."""
    return str(text).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _headline(summary: RunSummary) -> str:
    from ..ui.closing import headline

    return headline(summary)


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for key, value in values.items():
            out.write(f"{key}={value}\n")


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise GitHubError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def comment_body(summary: RunSummary, patch: str, pinned: str = "",
                 lead: str = "Apply it with `git apply` (copy the block into a file):") -> str:
    """A comment or pull request body: the headline, what was refused, and the patch (when there is one)."""
    head = (f"**makegreen**: {_headline(summary)} — {plural(summary.iterations, 'iteration')}, tests "
            + count_tests(summary.tests, "none")
            + (f", on {pinned[:12]}" if pinned else "") + ".\n\n")
    head += refusals(summary) + ("\n" if refusals(summary) else "")
    if not patch:
        return head + (summary.reason or "No change to propose.")
    if len(patch) > COMMENT_LIMIT:
        patch = patch[:COMMENT_LIMIT] + "\n… (cut: the whole patch is in the workflow run's summary)\n"
    return head + f"{lead}\n\n```diff\n" + patch + "```\n"


def run(env: Mapping[str, str], cwd: Path, say: Callable[[str], None]) -> int:
    """The action's whole job; returns the exit status (the solve's, unless the action itself failed)."""
    inputs, event = Inputs.from_env(env), Event.from_env(env)
    api = Api(env.get("GITHUB_API_URL", "https://api.github.com"), event.repository, inputs.token)
    try:
        admitted = admit(inputs, event, api=api, cwd=cwd, env=env, say=say)
    except Refused as refusal:
        _refuse(refusal, event, api, env, say)
        raise
    if admitted is None:
        write_outputs(env.get("GITHUB_OUTPUT"), NOTHING)
        return 0
    message, pinned = admitted
    branch = f"makegreen/run-{env.get('GITHUB_RUN_ID', 'local')}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    extra = {"commit": ["--commit"], "pull-request": ["--branch", branch], "comment": ["--no-apply"]}[inputs.mode]
    done = subprocess.run(solve_argv(inputs, message, extra), cwd=cwd, env=solve_env(env, cwd),
                          stdout=subprocess.PIPE, text=True)
    try:
        summary = RunSummary.from_json(json.loads(done.stdout))
    except json.JSONDecodeError:
        raise GitHubError(f"makegreen solve ended with exit {done.returncode} and no summary (see the log above)")
    solved = summary.status in (Status.GREEN, Status.ALREADY_GREEN)
    patch_file = _patch_file(cwd, summary)
    where, failed = "", None
    if summary.status == Status.GREEN:
        try:
            where = _deliver(inputs, summary, patch_file=patch_file, branch=branch, event=event, api=api, cwd=cwd,
                             env=env, pinned=pinned)
        except GitHubError as exc:  # the summary and outputs are still written: the fix is in the patch output
            where, failed = f"failed: {exc}", exc
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(job_summary(summary, inputs.mode, where))
    cost = summary.cost_usd
    write_outputs(env.get("GITHUB_OUTPUT"), {
        "solved": "true" if solved else "false", "iterations": str(summary.iterations),
        "cost": "" if cost is None else f"{cost:.6f}", "patch": patch_file})
    say(f"makegreen: {_headline(summary)}" + (f"; {where}" if where else ""))
    for item in summary.refused:
        say(f"::warning::makegreen refused the model's edit of {item['path']}: {item['reason']}")
    if failed is not None:
        raise failed
    return done.returncode


def admit(inputs: Inputs, event: Event, *, api: Api, cwd: Path, env: Mapping[str, str],
          say: Callable[[str], None]) -> tuple[str, str] | None:
    """(the message for the model, the commit the run is pinned to or ""), None when there is nothing to do, or
    Refused when the event is not safe to act on. Everything here happens before anything is spent."""
    message = inputs.message
    pinned = ""
    if event.name in PRIVILEGED_EVENTS and not event.same_repository and not inputs.allow_fork_code:
        raise Refused(f"{event.name} runs with this repository's secrets and a write token, and the code under test "
                      f"comes from a fork ({event.head_repository}): makegreen does not run it. Use the "
                      "pull_request event (no secrets for forks), a /makegreen comment after review, or, if you "
                      "accept the risk, set allow-fork-code: true")
    if event.name == "issue_comment":
        command = event.command()
        if command is None:
            say("makegreen: the comment is not a /makegreen command: nothing to do")
            return None
        if not event.payload.get("issue", {}).get("pull_request"):
            raise ConfigError("/makegreen works in pull request comments; this is an issue")
        if inputs.mode != "comment":
            raise ConfigError(f"a /makegreen comment is answered with a comment (mode comment), not mode "
                              f"{inputs.mode}: the comment's checkout is the pull request's head, detached")
        if not api.can_write(event.actor):
            say(f"::warning::makegreen: {event.actor} may not run /makegreen here (write access needed)")
            return None
        pinned = pin_to_comment(event, api, cwd)
        message = "\n\n".join(part for part in (message, command) if part)
    if inputs.mode == "commit":
        if event.payload.get("pull_request") and not event.same_repository:
            raise ConfigError("mode commit pushes to the pull request's branch, and this one lives in a fork: use "
                              "mode comment or pull-request")
        check_target(push_target(env), event, api)
    return message, pinned


def push_target(env: Mapping[str, str]) -> str:
    """The branch commit mode pushes to: the pull request's head branch, else the branch the run is on."""
    return env.get("GITHUB_HEAD_REF") or (env.get("GITHUB_REF_NAME", "") if env.get("GITHUB_REF_TYPE", "branch")
                                          == "branch" else "")


def check_target(target: str, event: Event, api: Api) -> None:
    """Commit mode never pushes to the default branch or to a protected one: those take a pull request."""
    if not target:
        raise Refused("mode commit needs a branch to push to, and this run is not on one: use mode pull-request")
    default = (event.payload.get("repository") or {}).get("default_branch") or api.call("GET", "").get(
        "default_branch")
    if target == default:
        raise Refused(f"mode commit would push to {target}, the default branch: makegreen never pushes there; use "
                      "mode pull-request")
    if api.call("GET", f"/branches/{urllib.parse.quote(target, safe='')}").get("protected"):
        raise Refused(f"mode commit would push to {target}, a protected branch: use mode pull-request")


def pin_to_comment(event: Event, api: Api, cwd: Path) -> str:
    """The head commit the /makegreen comment was written against, which must be the checkout's; Refused (with a
    reply) when the head moved after the comment, so that what runs is what the maintainer looked at."""
    found = api.call("GET", f"/pulls/{event.number}")
    head = found.get("head") or {}
    sha = head.get("sha") or ""
    checked_out = _git(cwd, "rev-parse", "HEAD").strip()
    if not sha or sha != checked_out:
        raise Refused(f"the checkout is at {checked_out[:12]}, but the pull request's head is {sha[:12] or '?'}: the "
                      "head moved after the /makegreen comment, or the workflow checked out something else. Review "
                      "the pull request as it is now and comment again", reply=True)
    written = _time((event.payload.get("comment") or {}).get("created_at") or "")
    if written is None:
        raise Refused("the comment's time is missing from the event: cannot tell which head it was written "
                      "against", reply=True)
    pushed, how = push_time(api, head, sha, cwd)
    if pushed is None:
        raise Refused(f"cannot tell when the pull request's head {sha[:12]} was pushed, so not whether you saw it: "
                      "comment again", reply=True)
    if pushed > written:
        raise Refused(f"the pull request's head moved to {sha[:12]} ({how} {pushed.isoformat()}) after the "
                      f"/makegreen comment ({written.isoformat()}): makegreen runs only on code you saw. Review the "
                      "new commits and comment again", reply=True)
    return sha


def push_time(api: Api, head: Mapping[str, Any], sha: str, cwd: Path) -> tuple[datetime | None, str]:
    """When the head commit reached its branch: the push's time from the head repository's activity (GitHub's
    clock), else the commit's own date (its author's to set, so weaker: said so in the refusal)."""
    repository = (head.get("repo") or {}).get("full_name")
    ref = head.get("ref")
    if repository and ref:
        query = urllib.parse.urlencode({"ref": f"refs/heads/{ref}", "per_page": 100})
        try:
            for activity in api.request("GET", f"/repos/{repository}/activity?{query}") or []:
                if isinstance(activity, dict) and activity.get("after") == sha:
                    return _time(activity.get("timestamp") or ""), "pushed"
        except GitHubError:
            pass  # a private fork's activity is not readable with this token
    return _time(_git(cwd, "log", "-1", "--format=%cI", sha).strip()), "committed (by its own date)"


def _time(text: str) -> datetime | None:
    """An ISO 8601 time as GitHub and git write it; one without a zone is UTC."""
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def _refuse(refusal: Refused, event: Event, api: Api, env: Mapping[str, str], say: Callable[[str], None]) -> None:
    """A refusal is said everywhere a maintainer looks: the log, the job summary, a reply to the comment."""
    write_outputs(env.get("GITHUB_OUTPUT"), NOTHING)
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(refused_summary(str(refusal)))
    say(f"::error::makegreen refused to run: {refusal}")
    if refusal.reply and event.number is not None:
        try:
            api.call("POST", f"/issues/{event.number}/comments",
                     {"body": f"**makegreen** did not run: {refusal}."})
        except GitHubError as exc:
            say(f"::warning::makegreen could not reply: {exc}")


def solve_env(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The solve's environment: the runner's, less every credential but the model's key, as an untrusted run."""
    kept = {key: value for key, value in env.items() if key not in SECRETS and not key.startswith("ACTIONS_")}
    return {**kept, **_identity(cwd, env), "MAKEGREEN_TRUST": "untrusted"}
def _identity(cwd: Path, env: Mapping[str, str]) -> dict[str, str]:
    """A commit author for runners that have none configured: the Actions bot, as GitHub's own actions do."""
    configured = subprocess.run(["git", "config", "user.email"], cwd=cwd, capture_output=True, text=True)
    if configured.stdout.strip() or env.get("GIT_AUTHOR_EMAIL"):
        return {}
    name, email = BOT
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def _patch_file(cwd: Path, summary: RunSummary) -> str:
    run_dir = cwd / summary.run_dir
    for name in ("changes.patch", "best-attempt.patch"):
        if (run_dir / name).is_file():
            return os.path.relpath(run_dir / name, cwd)
    return ""


def _deliver(inputs: Inputs, summary: RunSummary, *, patch_file: str, branch: str, event: Event, api: Api,
             cwd: Path, env: Mapping[str, str], pinned: str) -> str:
    """Push, open a pull request, or comment; says where the fix went."""
    if inputs.mode == "commit":
        target = push_target(env)
        _push(cwd, target, inputs.token, summary, env)
        return f"pushed {(summary.commit or '')[:12]} to {target}"
    if inputs.mode == "pull-request":
        base = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", "")
        _push(cwd, branch, inputs.token, summary, env)
        tests = summary.turned_green
        created = api.call("POST", "/pulls", {
            "title": f"makegreen: make {len(tests)} test{'s' if len(tests) != 1 else ''} pass", "head": branch,
            "base": base, "body": comment_body(summary, summary.diff, lead="The change:")})
        return f"opened {created.get('html_url') or '#' + str(created.get('number'))}"
    number = event.number
    if number is None:
        return "no pull request to comment on: the patch is in the summary below"
    patch = (cwd / patch_file).read_text(encoding="utf-8") if patch_file else summary.diff
    created = api.call("POST", f"/issues/{number}/comments", {"body": comment_body(summary, patch, pinned)})
    return f"commented {created.get('html_url') or 'on #' + str(number)}"


def _push(cwd: Path, branch: str, token: str, summary: RunSummary, env: Mapping[str, str]) -> None:
    """Push the fix's commit to branch with the github-token input. Whatever the checkout left in .git/config (or
    did not: persist-credentials: false) does not decide who pushes; the runner's hooks do not run. The commit
    must hold exactly the files the solve changed."""
    touched = set(_git(cwd, "diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "HEAD").split("\0")) - {""}
    prefix = _git(cwd, "rev-parse", "--show-prefix").strip()
    expected = {prefix + path for path in summary.changed_files}
    if touched != expected:
        raise GitHubError(f"the commit to push touches {sorted(touched)}, not the fix's files {sorted(expected)}: "
                          "not pushed")
    settings = [("core.hooksPath", "/dev/null"), ("credential.helper", "")]
    url = _git(cwd, "remote", "get-url", "--push", "origin").strip()
    parts = urllib.parse.urlsplit(url)
    if token and parts.scheme in ("http", "https"):
        header = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        where = f"http.{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/.extraheader"
        # an empty value clears the headers configured before it (actions/checkout's, under this very key)
        settings += [("http.extraheader", ""), (where, ""), (where, header)]
    git_env = {**env, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": str(len(settings))}
    for n, (key, value) in enumerate(settings):
        git_env.update({f"GIT_CONFIG_KEY_{n}": key, f"GIT_CONFIG_VALUE_{n}": value})
    _git(cwd, "push", "origin", f"HEAD:refs/heads/{branch}", env=git_env)

"""A simulated GitHub runner for the Action's tests: action.yml's steps run as a runner runs them (GITHUB_*
variables, an event file, ${{ }} expressions), a loopback server answering GitHub's REST calls, and a loopback git
server over smart HTTP that, like GitHub, takes a token in an Authorization header and records whose it was."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
JOB_TOKEN = "ghs_JOBTOKEN0secret"  # ${{ github.token }}
API_KEY = "sk-APIKEY0secret"
RUNTIME_TOKEN = "ACTIONS0RUNTIME0secret"  # what a runner gives every step
SECRETS = (JOB_TOKEN, API_KEY, RUNTIME_TOKEN)


class _Server:
    def __init__(self, handler) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Recorder(_Server):
    """An attacker's server: answers every request with 200 and keeps it, headers included."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _keep(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append((self.command, self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _keep

        super().__init__(Handler)


class FakeGitHub(_Server):
    """The REST calls the action makes, answered as GitHub answers them, and recorded. Its state (pull requests,
    branches, the head repositories' push activity) is the test's to set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.permissions = {"maintainer": "write", "stranger": "read"}
        self.pulls: dict[int, dict] = {}
        self.protected: set[str] = set()
        self.default_branch = "main"
        self.activity: dict[str, list[dict]] | None = {}  # None: not readable with the job's token
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> dict:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls.append((self.command, self.path, json.loads(body or b"{}")))
                if self.headers["Authorization"] != f"Bearer {JOB_TOKEN}":
                    raise PermissionError(self.headers["Authorization"])
                return fake.calls[-1][2]

            def do_GET(self) -> None:
                self._record()
                path = self.path.split("?")[0]
                if path == "/repos/acme/app":
                    return self._answer(200, {"full_name": "acme/app", "default_branch": fake.default_branch})
                if found := re.fullmatch(r"/repos/acme/app/collaborators/([^/]+)/permission", path):
                    return self._answer(200, {"permission": fake.permissions.get(found[1], "none")})
                if found := re.fullmatch(r"/repos/acme/app/branches/(.+)", path):
                    return self._answer(200, {"name": found[1], "protected": found[1] in fake.protected})
                if (found := re.fullmatch(r"/repos/acme/app/pulls/(\d+)", path)) and int(found[1]) in fake.pulls:
                    return self._answer(200, fake.pulls[int(found[1])])
                if (found := re.fullmatch(r"/repos/([^/]+/[^/]+)/activity", path)) and fake.activity is not None:
                    return self._answer(200, fake.activity.get(found[1], []))
                self._answer(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                body = self._record()
                if self.path == "/repos/acme/app/pulls":
                    return self._answer(201, {"number": 12, "html_url": "https://github.test/acme/app/pull/12",
                                              "head": {"ref": body["head"]}})
                if re.fullmatch(r"/repos/acme/app/issues/\d+/comments", self.path):
                    return self._answer(201, {"html_url": "https://github.test/acme/app/pull/7#issuecomment-1"})
                self._answer(404, {"message": "Not Found"})

        super().__init__(Handler)

    def posted(self) -> list[dict]:
        return [body for method, _path, body in self.calls if method == "POST"]


class GitHttpServer(_Server):
    """git's smart HTTP protocol (git http-backend as a CGI program) for the bare repositories under root. Every
    request needs `Authorization: basic x-access-token:TOKEN` with a token in tokens; pushes are recorded with the
    token that made them."""

    def __init__(self, root: Path, tokens: set[str]) -> None:
        self.pushes: list[str] = []  # the token of each push
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                token = self._token()
                if token not in tokens:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                if parts.path.endswith("/git-receive-pack"):
                    server.pushes.append(token)
                env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
                       "REQUEST_METHOD": self.command, "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "REMOTE_USER": "x-access-token", "REMOTE_ADDR": "127.0.0.1",
                       "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                       "GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
                done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _token(self) -> str:
                given = self.headers.get("Authorization", "")
                if not given.lower().startswith("basic "):
                    return ""
                user, _, token = base64.b64decode(given[6:]).decode().partition(":")
                return token if user == "x-access-token" else ""

            do_GET = do_POST = _serve

        super().__init__(Handler)


def basic_header(token: str) -> str:
    """What actions/checkout leaves in .git/config unless persist-credentials is false."""
    return "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def expand(text: str, inputs: dict, steps: dict) -> str:
    """${{ inputs.x }}, ${{ github.token }} and ${{ steps.id.outputs.x }}: what the action's own text uses."""
    def value(match) -> str:
        expression = match[1].strip()
        if expression.startswith("inputs."):
            return inputs[expression[len("inputs."):]]
        if expression == "github.token":
            return JOB_TOKEN
        step, _, name = expression[len("steps."):].partition(".outputs.")
        return steps.get(step, {}).get(name, "")
    return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))


def run_action(repo: Path, tmp_path: Path, runner_python: Path, event_name: str, event: dict, given: dict,
               extra_env: dict) -> tuple[int, dict, str, str]:
    """Run action.yml's steps in order, as the runner would; returns (status, outputs, summary, log). The runner
    has no route to the internet (a dead proxy): nothing in a test reaches a public API."""
    inputs = {name: expand(spec.get("default", ""), {}, {}) for name, spec in ACTION["inputs"].items()}
    inputs.update(given)
    (tmp_path / "event.json").write_text(json.dumps(event))
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "MAKEGREEN_", "GITHUB_", "INPUT_", "ACTIONS_"))}
    base.pop("PYTHONPATH", None)
    base.update(PATH=f"{runner_python}{os.pathsep}{os.environ['PATH']}", GITHUB_ACTIONS="true",
                GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(tmp_path / "event.json"),
                GITHUB_REPOSITORY="acme/app", GITHUB_RUN_ID="4242", GITHUB_RUN_ATTEMPT="1",
                GITHUB_ACTION_PATH=str(ROOT), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
                ACTIONS_RUNTIME_TOKEN=RUNTIME_TOKEN, HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
                NO_PROXY="127.0.0.1,localhost", MAKEGREEN_LOCAL="0",
                MAKEGREEN_BASE_IMAGE=os.environ.get("MAKEGREEN_BASE_IMAGE", "python:3.12-slim"))
    base.update(extra_env)
    steps: dict[str, dict] = {}
    log = ""
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:  # actions/setup-python: runner_python stands in for it
            continue
        output = tmp_path / f"output-{len(steps)}"
        output.write_text("")
        env = {**base, "GITHUB_OUTPUT": str(output),
               **{key: expand(value, inputs, steps) for key, value in step.get("env", {}).items()}}
        cwd = repo / expand(step.get("working-directory", "."), inputs, steps)
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600)
        log += done.stdout + done.stderr
        steps[step.get("id", f"step{len(steps)}")] = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if done.returncode != 0:
            break
    outputs = {name: expand(spec["value"], inputs, steps) for name, spec in ACTION["outputs"].items()}
    summary = (tmp_path / "summary.md").read_text() if (tmp_path / "summary.md").exists() else ""
    return done.returncode, outputs, summary, log


def open_pull(github: FakeGitHub, repo: Path, number: int, pushed: str, head_repository: str = "acme/app",
              ref: str = "feature") -> str:
    """Pull request number, its head the checkout's HEAD, pushed to its branch at the time given; its sha."""
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    github.pulls[number] = {"number": number, "head": {"sha": sha, "ref": ref,
                                                       "repo": {"full_name": head_repository}}}
    if github.activity is not None:
        github.activity.setdefault(head_repository, []).append(
            {"ref": f"refs/heads/{ref}", "after": sha, "activity_type": "push", "timestamp": pushed})
    return sha


def comment_event(number: int, body: str, created: str) -> dict:
    return {"issue": {"number": number, "pull_request": {"url": "x"}},
            "comment": {"body": body, "created_at": created}, "repository": {"default_branch": "main"}}

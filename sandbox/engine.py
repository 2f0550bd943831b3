"""The Docker Engine API calls a sandbox makes, behind one small interface with two implementations:

- LocalEngine speaks HTTP on the engine's local socket with the standard library. Importing the Docker SDK
  (requests, urllib3 and its own modules) takes a tenth of a second: a quarter of the hook's everyday green run,
  which is two execs in a parked container.
- SDKEngine goes through the Docker SDK: for every other DOCKER_HOST (tcp, TLS, ssh).

Both return the API's own JSON and raise EngineError with the engine's HTTP status; an exec's stream is read the
same way from either (Exec). Pulling and building images, rare and slow anyway, always go through the SDK
(`sdk()`), as do `makegreen doctor`'s questions.
"""
from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from .base import SandboxError

LOCAL_SOCKET = "/var/run/docker.sock"
STATUS_WAIT = 5.0  # seconds an exec's exit status may take to be recorded once its output has ended


class EngineError(SandboxError):
    """The engine refused a call; status is its HTTP status (404: no such thing, 409: a conflict, or a removal
    already under way)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Spec:
    """A container to create, as the API's create call takes it (host is its HostConfig)."""

    image: str
    command: Sequence[str]
    labels: Mapping[str, str]
    environment: Mapping[str, str]
    working_dir: str
    host: Mapping[str, Any]

    def config(self) -> dict[str, Any]:
        return {"Image": self.image, "Cmd": list(self.command), "Labels": dict(self.labels),
                "Env": [f"{key}={value}" for key, value in self.environment.items()],
                "WorkingDir": self.working_dir, "HostConfig": dict(self.host)}


class Exec:
    """A started exec: its output as frames (1 stdout, 2 stderr), its stdin, its exit status."""

    def __init__(self, engine: "LocalEngine | SDKEngine", exec_id: str, connection, buffered: bytes = b"",
                 holder=None) -> None:
        self.engine, self.id = engine, exec_id
        self._connection, self._holder = connection, holder  # holder: the SDK's wrapper, closed with it
        self._buffer = bytearray(buffered)
        self._sender: threading.Thread | None = None

    def send(self, data: bytes) -> None:
        """Give data to the command's stdin, from a thread of its own: a command that ends without reading it all
        ends the exchange (close), where the engine would otherwise leave a sender blocked."""

        def run() -> None:
            try:
                self._connection.sendall(data)
            except OSError:  # the command ended first: its status says how
                pass

        self._sender = threading.Thread(target=run, name="makegreen-stdin", daemon=True)
        self._sender.start()

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """The output as it comes, until the command ends."""
        buffer = self._buffer
        while True:
            while len(buffer) < 8 or len(buffer) < 8 + struct.unpack(">I", buffer[4:8])[0]:
                try:
                    chunk = self._connection.recv(65536)
                except OSError:  # the connection broke (the engine went away, or close() from another thread)
                    return
                if not chunk:
                    return
                buffer += chunk
            size = struct.unpack(">I", buffer[4:8])[0]
            yield buffer[0], bytes(buffer[8:8 + size])
            del buffer[:8 + size]

    def close(self) -> None:
        try:
            self._connection.shutdown(socket.SHUT_RDWR)  # a sender still blocked wakes up
        except OSError:
            pass
        if self._sender is not None:
            self._sender.join(STATUS_WAIT)
        for closing in (self._holder, self._connection):
            if closing is not None:
                closing.close()

    def status(self, wait: float = STATUS_WAIT) -> int | None:
        """The exit status. The engine records it a moment after the output ends (on a busy engine, long enough
        to read None): wait for it, a few seconds at most; None where the command still runs."""
        deadline = time.monotonic() + wait
        while True:
            state = self.engine.exec_state(self.id)
            if not state.get("Running") and state.get("ExitCode") is not None or time.monotonic() > deadline:
                return state.get("ExitCode") if not state.get("Running") else None
            time.sleep(0.01)

    def finish(self) -> int | None:
        """Wait for the command's end, its output dropped: its exit status."""
        try:
            for _ in self.frames():
                pass
        finally:
            self.close()
        return self.status()


def run(engine, container: str, argv: Sequence[str], user: str, stdin: bytes | None = None) -> int | None:
    """Run a command in the container to its end (stdin given, output dropped): its exit status."""
    started = engine.exec(container, argv, user, stdin=stdin is not None)
    if stdin is not None:
        started.send(stdin)
    return started.finish()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = _unix_socket(self._path, self.timeout)


def _unix_socket(path: str, timeout: float | None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def _message(data: bytes) -> str:
    try:
        return str(json.loads(data).get("message", "")) or data.decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return data.decode("utf-8", "replace").strip()


class LocalEngine:
    """The engine on a local socket, by the standard library; a connection per call, so threads may share it."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self._sdk = None

    def _call(self, method: str, path: str, query: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        url = urllib.parse.quote(path, safe="/:") + (f"?{urllib.parse.urlencode(query)}" if query else "")
        payload = None if body is None else json.dumps(body).encode()
        connection = _UnixConnection(self.path, self.timeout)
        try:
            connection.request(method, url, body=payload,
                               headers={"Content-Type": "application/json"} if payload is not None else {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise EngineError(response.status, _message(data))
        return json.loads(data) if data and "json" in (response.getheader("Content-Type") or "") else None

    def ping(self) -> None:
        self._call("GET", "/_ping")

    def containers(self, filters: Mapping[str, Sequence[str]], all: bool = False) -> list[dict]:
        return self._call("GET", "/containers/json", {"all": "1" if all else "0", "filters": json.dumps(filters)})

    def inspect(self, container: str) -> dict:
        return self._call("GET", f"/containers/{container}/json")

    def image_id(self, name: str) -> str | None:
        try:
            return self._call("GET", f"/images/{name}/json")["Id"]
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, name: str, spec: Spec) -> str:
        return self._call("POST", "/containers/create", {"name": name}, spec.config())["Id"]

    def start(self, container: str) -> None:
        self._call("POST", f"/containers/{container}/start")

    def rename(self, container: str, name: str) -> None:
        self._call("POST", f"/containers/{container}/rename", {"name": name})

    def remove(self, container: str) -> None:
        self._call("DELETE", f"/containers/{container}", {"force": "1"})

    def exec(self, container: str, argv: Sequence[str], user: str, workdir: str = "/",
             environment: Mapping[str, str] | None = None, stdin: bool = False) -> Exec:
        exec_id = self._call("POST", f"/containers/{container}/exec", body={
            "AttachStdin": stdin, "AttachStdout": True, "AttachStderr": True, "Tty": False, "Cmd": list(argv),
            "User": user, "WorkingDir": workdir, "Env": [f"{k}={v}" for k, v in (environment or {}).items()]})["Id"]
        body = b'{"Detach": false, "Tty": false}'
        sock = _unix_socket(self.path, self.timeout)
        try:
            sock.sendall(f"POST /exec/{exec_id}/start HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
                         f"Upgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                         .encode() + body)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EngineError(0, "the engine closed the connection before the exec started")
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status not in (101, 200):
                raise EngineError(status, _message(rest))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)  # a test run may take as long as its timeout; the caller bounds the wait
        return Exec(self, exec_id, sock, rest)

    def exec_state(self, exec_id: str) -> dict:
        return self._call("GET", f"/exec/{exec_id}/json")

    def sdk(self):
        """The Docker SDK's client, for pulls and builds (imported only then)."""
        if self._sdk is None:
            import docker

            self._sdk = docker.DockerClient(base_url=f"unix://{self.path}", timeout=int(self.timeout))
        return self._sdk


class SDKEngine:
    """The engine through the Docker SDK (any DOCKER_HOST the SDK reaches), with LocalEngine's interface."""

    def __init__(self, client) -> None:
        import docker.errors

        self._client, self._api, self._errors = client, client.api, docker.errors

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except self._errors.APIError as exc:
            raise EngineError(exc.status_code or 0, str(exc.explanation or exc)) from exc

    def ping(self) -> None:
        self._call(self._api.ping)

    def containers(self, filters: Mapping[str, Sequence[str]], all: bool = False) -> list[dict]:
        return self._call(self._api.containers, all=all, filters=dict(filters))

    def inspect(self, container: str) -> dict:
        return self._call(self._api.inspect_container, container)

    def image_id(self, name: str) -> str | None:
        try:
            return self._call(self._api.inspect_image, name)["Id"]
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, name: str, spec: Spec) -> str:
        return self._call(self._api.create_container_from_config, spec.config(), name)["Id"]

    def start(self, container: str) -> None:
        self._call(self._api.start, container)

    def rename(self, container: str, name: str) -> None:
        self._call(self._api.rename, container, name)

    def remove(self, container: str) -> None:
        self._call(self._api.remove_container, container, force=True)

    def exec(self, container: str, argv: Sequence[str], user: str, workdir: str = "/",
             environment: Mapping[str, str] | None = None, stdin: bool = False) -> Exec:
        exec_id = self._call(self._api.exec_create, container, list(argv), user=user, workdir=workdir,
                             environment=dict(environment or {}), stdin=stdin)["Id"]
        holder = self._call(self._api.exec_start, exec_id, socket=True)
        connection = getattr(holder, "_sock", holder)  # the connection, under the SDK's file-like wrapper
        return Exec(self, exec_id, connection, holder=holder if connection is not holder else None)

    def exec_state(self, exec_id: str) -> dict:
        return self._call(self._api.exec_inspect, exec_id)

    def sdk(self):
        return self._client


def open_engine(timeout: float, environ: Mapping[str, str]) -> "LocalEngine | SDKEngine":
    """The engine DOCKER_HOST names (the local socket when unset), not yet asked anything."""
    host = environ.get("DOCKER_HOST", "")
    if not host or host.startswith("unix://"):
        return LocalEngine(host[len("unix://"):] or LOCAL_SOCKET, timeout)
    import docker

    return SDKEngine(docker.from_env(timeout=int(timeout), environment=dict(environ)))


def remove_quietly(engine, container: str) -> bool:
    """Remove a container; False where it is gone already or its removal is under way (another run's)."""
    try:
        engine.remove(container)
        return True
    except EngineError as exc:
        if exc.status in (404, 409):
            return False
        raise

"""An engine reached over TCP, as a remote DOCKER_HOST, Docker-in-Docker or a CI runner's shared socket would be:
makegreen copies files through the API, so a solve works the same. The engine's socket is forwarded to a
loopback TCP port by a small relay in this test."""
from __future__ import annotations

import os
import socket
import threading

import pytest

from tests.conftest import ANSWERS, make_repo, tree_bytes
from tests.sandbox.test_lifecycle import makegreen
from tests.scripted_server import Reply, ScriptedServer

ENGINE_SOCKET = "/var/run/docker.sock"


class Relay:
    """Loopback TCP → the engine's unix socket, one thread pair per connection."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(self.target)
            for source, sink in ((client, engine), (engine, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def relay(docker_client):
    if not os.path.exists(ENGINE_SOCKET):
        pytest.fail(f"the engine's socket {ENGINE_SOCKET} is missing")
    relay = Relay(ENGINE_SOCKET)
    yield relay
    relay.close()


def test_solve_through_an_engine_reached_over_tcp(tmp_path, relay, base_image):
    repo = make_repo(tmp_path / "roman", example="roman")
    tests_before = tree_bytes(repo)["tests/test_roman.py"]
    with ScriptedServer([Reply((ANSWERS / "roman.md").read_text())]) as server:
        result = makegreen(repo, "solve", "--json", env={"OPENAI_BASE_URL": server.url,
                                                         "DOCKER_HOST": f"tcp://127.0.0.1:{relay.port}"})
    assert result.returncode == 0, result.stderr
    assert relay.connections > 0  # the run really went through the relay
    assert (repo / "roman.py").is_file() and tree_bytes(repo)["tests/test_roman.py"] == tests_before

"""The shared local engine (agent/models/shared_engine.py) with a stand-in engine that behaves as llama.cpp's server
does where it matters: it computes on the CPU while it answers, and asked to stop (SIGTERM) it waits for the answer in
flight. The real engine's turn is in tests/realmodel/test_engine_lifecycle.py."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent.integrations.doctor import check_warm_engines
from agent.models.serve import Plan
from agent.models.shared_engine import acquire, alive, engines_dir, read_state, running
from tests.conftest import ROOT, gone

ENGINE = textwrap.dedent('''
    import http.server, json, signal, sys, time
    busy = [False]

    def polite(*_):  # as uvicorn does: stop once the answer in flight is done
        while busy[0]:
            time.sleep(0.05)
        sys.exit(0)

    signal.signal(signal.SIGTERM, polite)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, payload):
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._send({"object": "list", "data": [{"id": "stand-in"}]})

        def do_POST(self):  # an answer that takes 60 s of CPU and does not notice its client leaving
            busy[0] = True
            end = time.monotonic() + 60
            while time.monotonic() < end:
                sum(range(10000))
            busy[0] = False
            self._send({"done": True})

    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
''')


@pytest.fixture
def setup(tmp_path):
    script = tmp_path / "engine.py"
    script.write_text(ENGINE)
    environ = {**os.environ, "MAKEGREEN_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}

    def launch(plan: Plan):
        return [sys.executable, str(script), str(plan.port), plan.model], {}
    yield environ, launch
    for state in running(environ):  # nothing left behind by a failing test
        os.kill(state.supervisor, signal.SIGKILL)


def plan(model: str = "stand-in") -> Plan:
    return Plan("llama.cpp", model, 0)


def test_a_second_run_finds_the_engine_warm_and_an_idle_engine_stops_itself(setup):
    environ, launch = setup
    first = acquire(plan(), idle=2.0, environ=environ, ready_timeout=30, launch=launch)
    second = acquire(plan(), idle=2.0, environ=environ, ready_timeout=30, launch=launch)
    assert first.started and not second.started
    assert second.state == first.state and alive(first.state, first.state.key)
    assert [s.engine for s in running(environ)] == [first.state.engine]
    [listed] = check_warm_engines(environ)  # what doctor shows
    assert first.state.base_url in listed.detail and f"pid {first.state.engine}" in listed.detail
    first.release()
    time.sleep(3.0)  # past the idle time, but the second run still holds it
    assert alive(first.state, first.state.key)
    second.release()
    assert gone(first.state.engine, 8.0) and gone(first.state.supervisor, 8.0)
    assert running(environ) == [] and not Path(first.state.log).with_suffix(".json").exists()


def test_another_setting_is_another_engine_and_idle_zero_is_one_engine_per_run(setup):
    environ, launch = setup
    warm = acquire(plan(), idle=60, environ=environ, ready_timeout=30, launch=launch)
    other = acquire(plan("another-model"), idle=60, environ=environ, ready_timeout=30, launch=launch)
    own = acquire(plan(), idle=0, environ=environ, ready_timeout=30, launch=launch)
    assert len({warm.state.engine, other.state.engine, own.state.engine}) == 3
    own.release()  # idle 0: stopped as soon as its run lets go
    assert gone(own.state.engine, 6.0)
    assert alive(warm.state, warm.state.key) and alive(other.state, other.state.key)
    for lease in (warm, other):
        os.kill(lease.state.supervisor, signal.SIGTERM)
        assert gone(lease.state.engine, 8.0)
        lease.release()


def test_a_record_that_does_not_describe_our_engine_is_replaced_not_trusted(setup, tmp_path):
    environ, launch = setup
    lease = acquire(plan(), idle=60, environ=environ, ready_timeout=30, launch=launch)
    state, path = lease.state, engines_dir(environ) / f"{lease.state.key}.json"
    os.kill(state.supervisor, signal.SIGKILL)  # the engine dies with its supervisor, outright
    assert gone(state.engine, 5.0)
    lease.release()
    # a stranger now listens where the engine was, under a live pid that is not a supervisor of ours
    stranger = socket.socket()
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stranger.bind(("127.0.0.1", state.port))
    stranger.listen()
    forged = {**json.loads(path.read_text()), "supervisor": os.getpid(), "engine": os.getpid()} \
        if path.exists() else {**state.__dict__, "argv": list(state.argv), "supervisor": os.getpid(),
                               "engine": os.getpid()}
    path.write_text(json.dumps(forged))
    assert read_state(path) is not None and not alive(read_state(path), state.key)
    said = []
    fresh = acquire(plan(), idle=60, environ=environ, ready_timeout=30, said=said.append,
                    launch=launch)
    stranger.close()
    assert fresh.started and fresh.state.port != state.port and fresh.state.engine != os.getpid()
    assert any("no longer describes a running engine" in line for line in said)
    os.kill(fresh.state.supervisor, signal.SIGTERM)
    assert gone(fresh.state.engine, 8.0)
    fresh.release()


RUN = textwrap.dedent('''
    import json, signal, sys, urllib.request
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever started the test run
    from agent.models.serve import Plan
    from tests.test_shared_engine import ENGINE
    script, idle = sys.argv[1], float(sys.argv[2])
    from agent.models.shared_engine import acquire
    lease = acquire(Plan("llama.cpp", "stand-in", 0), idle=idle, environ=__import__("os").environ, ready_timeout=30,
                    launch=lambda plan: ([sys.executable, script, str(plan.port), plan.model], {}))
    print(json.dumps({"engine": lease.state.engine, "supervisor": lease.state.supervisor}), flush=True)
    urllib.request.urlopen(urllib.request.Request(lease.state.base_url + "/chat/completions", data=b"{}"),
                           timeout=120)
''')


@pytest.mark.parametrize("idle", [300.0, 0.0])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_run_killed_in_the_middle_of_an_answer_leaves_no_engine_computing(setup, tmp_path, sig, idle):
    environ, _ = setup
    run = subprocess.Popen([sys.executable, "-c", RUN, str(tmp_path / "engine.py"), str(idle)], env=environ,
                           cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pids = json.loads(run.stdout.readline())
    time.sleep(1.5)  # the engine is computing the answer now
    run.send_signal(sig)
    run.wait(10)
    # warm or not, an engine computing for nobody is killed: it would otherwise compute for a minute
    assert gone(pids["engine"], 5.0), "the engine went on computing after its run was killed"
    assert gone(pids["supervisor"], 5.0)
    assert running(environ) == []


def test_an_engine_that_crashes_under_a_run_says_how_it_ended(setup, tmp_path):
    """llama.cpp built for instructions a machine lists but does not grant dies on its first token (SIGSEGV): the
    run then sees only a broken connection. The supervisor writes how its engine ended into the engine's log, and
    died() gives that to the run to say, where a live engine gives None."""
    from agent.models.shared_engine import died

    environ, _ = setup
    script = tmp_path / "crashing.py"
    script.write_text(ENGINE.replace("busy[0] = True", "os.kill(os.getpid(), signal.SIGSEGV)")
                      .replace("import http.server,", "import os, http.server,"))
    lease = acquire(plan(), idle=60, environ=environ, ready_timeout=30,
                    launch=lambda p: ([sys.executable, str(script), str(p.port), p.model], {}))
    state = lease.state
    assert died(state) is None  # alive: nothing to say
    with pytest.raises(OSError):
        with socket.create_connection(("127.0.0.1", state.port), timeout=10) as connection:
            connection.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            if not connection.recv(100):
                raise ConnectionResetError("closed")
    said = died(state)
    lease.release()
    assert said is not None and "the engine ended by itself: killed by SIGSEGV" in said

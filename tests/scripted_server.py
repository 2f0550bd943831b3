"""A scripted OpenAI-compatible HTTP server on loopback, for tests and the offline demo.

It speaks the real protocol (chat completions, plain and streamed as server-sent events; the model list) to the
real `openai` client. Each request takes the next reply of its script; the last reply repeats. Every request's
JSON body is kept for the tests to inspect.

It plays one server's dialect at a time: where that server puts thinking, what it says it is in /v1/models, and
what it rejects (OpenAI's reasoning models refuse a `system` role, `max_tokens` and `temperature`).

    python -m tests.scripted_server tests/answers/roman.md     # prints the base URL, serves until killed
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Reply:
    content: str = ""
    reasoning: str = ""
    # where the thinking goes: "reasoning_content", "reasoning", "think" (<think> tags in the content),
    # "open-think" (tags with the opening one missing, as R1 templates prefill it), "hidden" (only counted in usage);
    # None: where the server's dialect puts it
    reasoning_field: str | None = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    finish_reason: str = "stop"
    chunk_size: int = 40
    delay: float = 0.0  # seconds to wait before answering
    drop_after: int | None = None  # close the connection after this many chunks, without a finish reason
    chunk_delay: float = 0.0  # seconds between streamed chunks (a model thinking slowly)
    code: str | None = None  # the error code of a non-200 reply (context_length_exceeded, …)


# dialect → (owned_by in /v1/models, where thinking goes)
DIALECTS = {
    "openai": ("openai", "hidden"),
    "vllm": ("vllm", "reasoning"),
    "sglang": ("sglang", "reasoning_content"),
    "llama.cpp": ("llamacpp", "reasoning_content"),
    "ollama": ("library", "reasoning"),
    "raw": ("scripted", "think"),
    "plain": ("scripted", "reasoning_content"),
}


def openai_rejects(body: dict) -> tuple[str, str] | None:
    """What OpenAI's chat completions refuse for a reasoning model: (message, param)."""
    for index, message in enumerate(body.get("messages", [])):
        if message.get("role") == "system":
            return ("Unsupported value: 'messages[%d].role' does not support 'system' with this model. "
                    "Use 'developer' instead." % index, f"messages[{index}].role")
    if "max_tokens" in body:
        return ("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.", "max_tokens")
    for name in ("temperature", "top_p"):
        if name in body:
            return f"Unsupported parameter: '{name}' is not supported with this model.", name
    return None


class ScriptedServer:
    def __init__(self, replies: list[Reply], model: str = "scripted-model", dialect: str = "plain",
                 port: int = 0, responses_only: bool = False, route=None, stream_usage: bool = True) -> None:
        self.replies = list(replies)
        self.route = route  # body → Reply: answers chosen by what is asked, instead of in order
        self.model = model
        self.dialect = dialect
        self.owned_by, self.reasoning_field = DIALECTS[dialect]
        self.responses_only = responses_only  # like OpenAI's -pro models: chat completions refuse them
        self.stream_usage = stream_usage  # False: like llama-cpp-python's server, no usage in a streamed answer
        self.requests: list[dict] = []
        self.abandoned = 0  # streams the client closed before their end
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def chat_requests(self) -> list[dict]:
        return [body for body in self.requests if "messages" in body]

    def responses_requests(self) -> list[dict]:
        return [body for body in self.requests if "input" in body]

    def _next(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.route is not None:
                return self.route(body)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": server.model, "object": "model", "created": 0, "owned_by": server.owned_by}]})
                else:
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.rstrip("/").endswith("/responses"):
                    self._responses(body, server._next(body))
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                if server.responses_only:
                    server.requests.append(body)
                    self._json(404, {"error": {"message": "This model is only supported in v1/responses and not in "
                                               "v1/chat/completions.", "type": "invalid_request_error",
                                               "code": "unsupported_api_for_model"}})
                    return
                reply = server._next(body)
                time.sleep(reply.delay)
                if server.dialect == "openai":
                    rejected = openai_rejects(body)
                    if rejected:
                        self._json(400, {"error": {"message": rejected[0], "type": "invalid_request_error",
                                                   "param": rejected[1], "code": "unsupported_parameter"}})
                        return
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.content or "scripted error",
                                                        "type": "scripted", "code": reply.code}}, reply.headers)
                    return
                content, reasoning = reply.content, reply.reasoning
                finish_reason = reply.finish_reason
                cap = body.get("max_completion_tokens") or body.get("max_tokens")
                if cap and (len(reasoning) + len(content)) // 4 > cap:  # like a real server: stop at the limit
                    reasoning = reasoning[: cap * 4]
                    content = content[: max(cap * 4 - len(reasoning), 0)]
                    finish_reason = "length"
                where = reply.reasoning_field or server.reasoning_field
                hidden = 0
                if where == "hidden":
                    hidden, reasoning = len(reasoning) // 4, ""
                elif where in ("think", "open-think") and reasoning:
                    opening = "<think>" if where == "think" else ""
                    closing = "</think>\n" if content or finish_reason != "length" else ""
                    content, reasoning = f"{opening}{reasoning}{closing}{content}", ""
                    where = "content"
                usage = {"prompt_tokens": sum(len(m.get("content", "")) for m in body["messages"]) // 4,
                         "completion_tokens": (len(content) + len(reasoning)) // 4 + hidden,
                         "completion_tokens_details": {"reasoning_tokens": len(reasoning) // 4 + hidden}}
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                base = {"id": "chatcmpl-scripted", "created": int(time.time()), "model": body.get("model")}
                if not body.get("stream"):
                    message = {"role": "assistant", "content": content}
                    if reasoning:
                        message[where] = reasoning
                    self._json(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                        {"index": 0, "message": message, "finish_reason": finish_reason}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def send(delta: dict, finish: str | None = None, **extra) -> None:
                    chunk = {**base, "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                deltas = [{"role": "assistant", "content": ""}]
                size = reply.chunk_size
                deltas += [{where: reasoning[i:i + size]} for i in range(0, len(reasoning), size)]
                deltas += [{"content": content[i:i + size]} for i in range(0, len(content), size)]
                for number, delta in enumerate(deltas):
                    if reply.drop_after is not None and number >= reply.drop_after:
                        self.close_connection = True
                        return  # the connection goes away half-way: no finish reason, no [DONE]
                    try:
                        send(delta)
                    except OSError:  # the client stopped reading (a cancelled candidate)
                        with server._lock:
                            server.abandoned += 1
                        self.close_connection = True
                        return
                    time.sleep(reply.chunk_delay)
                send({}, finish_reason)
                if (body.get("stream_options") or {}).get("include_usage") and server.stream_usage:
                    chunk = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _responses(self, body: dict, reply: Reply) -> None:
                """The Responses API, streamed as its typed events: reasoning summary, output text, completion."""
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.content or "scripted error",
                                                        "type": "scripted", "code": reply.code}}, reply.headers)
                    return
                number = len(server.responses_requests())
                prompt = len(body.get("instructions", "")) + len(json.dumps(body.get("input", [])))
                summary, text = reply.reasoning, reply.content
                reasoning_item = {"type": "reasoning", "id": f"rs_{number}", "encrypted_content": f"enc-{number}",
                                  "summary": [{"type": "summary_text", "text": summary}]}
                message_item = {"type": "message", "id": f"msg_{number}", "role": "assistant", "status": "completed",
                                "content": [{"type": "output_text", "text": text, "annotations": []}]}
                incomplete = reply.finish_reason == "length"
                response = {
                    "id": f"resp_{number}", "object": "response", "created_at": int(time.time()),
                    "model": body.get("model"), "status": "incomplete" if incomplete else "completed",
                    "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
                    "output": [reasoning_item, message_item], "parallel_tool_calls": False, "tool_choice": "auto",
                    "tools": [],
                    "usage": {"input_tokens": prompt // 4, "input_tokens_details": {"cached_tokens": 0},
                              "output_tokens": (len(summary) * 3 + len(text)) // 4,
                              "output_tokens_details": {"reasoning_tokens": len(summary) * 3 // 4},
                              "total_tokens": (prompt + len(summary) * 3 + len(text)) // 4},
                }
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                events = [{"type": "response.created", "response": {**response, "status": "in_progress",
                                                                    "output": [], "usage": None}}]
                size = reply.chunk_size
                events += [{"type": "response.reasoning_summary_text.delta", "item_id": reasoning_item["id"],
                            "output_index": 0, "summary_index": 0, "delta": summary[i:i + size]}
                           for i in range(0, len(summary), size)]
                events += [{"type": "response.output_text.delta", "item_id": message_item["id"], "output_index": 1,
                            "content_index": 0, "delta": text[i:i + size], "logprobs": []}
                           for i in range(0, len(text), size)]
                events.append({"type": "response.incomplete" if incomplete else "response.completed",
                               "response": response})
                for sequence, event in enumerate(events):
                    if reply.drop_after is not None and sequence >= reply.drop_after:
                        self.close_connection = True
                        return
                    event["sequence_number"] = sequence
                    self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.close_connection = True

        return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", nargs="+", type=Path, help="files holding the replies, in order")
    args = parser.parse_args(argv)
    replies = [Reply(content=path.read_text(encoding="utf-8"), reasoning="Reading the tests first.")
               for path in args.answers]
    server = ScriptedServer(replies).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

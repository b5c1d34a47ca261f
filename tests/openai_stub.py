"""An OpenAI-compatible chat completions server on 127.0.0.1, for tests and benchmarks.

    with OpenAIStub() as stub:
        stub.fail_when("flaky", status=429, times=2, retry_after=0.05)
        api_base = stub.api_base  # http://127.0.0.1:PORT/v1

The server handles `POST /v1/chat/completions` with a canned reply per model:
`replies[model]` is a string or a function of the messages, and a model without
an entry gets `"<model> says: <last user message>"`. Token usage is counted in
whitespace-separated words, so a test can check it independently. Faults are
matched on a substring of the request's last user message: a status code for the
first N matching requests (with an optional `retry-after` header), a delay, or a
hang that lasts until the client gives up or the server stops. Every request that
reached the handler is recorded in `requests`, faulty ones included.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How long a hanging request is held when nothing releases it. It is longer
# than any client timeout a test uses, and short enough that a stray thread ends.
HANG_LIMIT_S = 30.0


@dataclass
class Fault:
    """A scripted fault for requests whose last user message contains `match`."""

    match: str
    status: int | None = None
    times: int | None = None  # None: every matching request
    retry_after: float | None = None
    delay_s: float = 0.0
    hang: bool = False
    model: str | None = None  # None: every model
    echo_authorization: bool = False
    used: int = 0


@dataclass
class SeenRequest:
    """One request as the stub received it."""

    model: str
    messages: list
    body: dict
    authorization: str | None
    status: int
    received_at: float = field(default_factory=time.monotonic)

    @property
    def last_user_text(self) -> str:
        return _last_user_text(self.messages)


def _last_user_text(messages: list) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    part.get("text", "") for part in content if isinstance(part, dict)
                )
    return ""


def word_count(text: str) -> int:
    """Return the stub's token count of a text: its whitespace-separated words."""
    return len(text.split())


def messages_word_count(messages: list) -> int:
    """Return the stub's prompt token count: the words of every message content."""
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += word_count(content)
    return total


Reply = str | Callable[[list], str]


class OpenAIStub:
    """A chat completions server in a background thread; use it as a context manager."""

    def __init__(
        self,
        replies: dict[str, Reply] | None = None,
        *,
        delay_s: float = 0.0,
        finish_reason: str = "stop",
    ):
        self.replies = dict(replies or {})
        self.delay_s = delay_s
        self.finish_reason = finish_reason
        self.faults: list[Fault] = []
        self.requests: list[SeenRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ---------------------------------------------------------------

    def fail_when(
        self,
        match: str,
        *,
        status: int,
        times: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
        echo_authorization: bool = False,
    ) -> None:
        """Respond with `status` to the first `times` requests containing `match`.

        With `echo_authorization` the error message repeats the Authorization
        header, as some providers quote a rejected key.
        """
        fault = Fault(
            match,
            status,
            times,
            retry_after,
            model=model,
            echo_authorization=echo_authorization,
        )
        self.faults.append(fault)

    def delay_when(self, match: str, delay_s: float) -> None:
        self.faults.append(Fault(match, delay_s=delay_s))

    def hang_when(self, match: str) -> None:
        """Hold requests containing `match` until the client disconnects or stop()."""
        self.faults.append(Fault(match, hang=True))

    def count(self, model: str | None = None, match: str | None = None) -> int:
        """Return how many requests arrived, optionally for one model or text."""
        with self._lock:
            seen = list(self.requests)
        if model is not None:
            seen = [request for request in seen if request.model == model]
        if match is not None:
            seen = [request for request in seen if match in request.last_user_text]
        return len(seen)

    def reply_text(self, model: str, messages: list) -> str:
        reply = self.replies.get(model)
        if reply is None:
            return f"{model} says: {_last_user_text(messages)}"
        if callable(reply):
            return reply(messages)
        return reply

    # --- request handling (runs in the server's threads) ---------------------------

    def _active_faults(self, model: str, text: str) -> list[Fault]:
        """Return the faults that apply to this request, counting their use."""
        active = []
        with self._lock:
            for fault in self.faults:
                if fault.match not in text:
                    continue
                if fault.model is not None and fault.model != model:
                    continue
                if fault.times is not None and fault.used >= fault.times:
                    continue
                fault.used += 1
                active.append(fault)
        return active

    def _record(self, seen: SeenRequest) -> None:
        with self._lock:
            self.requests.append(seen)

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler_for(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections open between requests, as real providers do.
        protocol_version = "HTTP/1.1"
        # The handler writes the headers and the body in two sends. With Nagle's
        # algorithm on, the body then waits for the client's delayed ACK (about
        # 40 ms on Linux). Real servers avoid that wait with TCP_NODELAY, as here.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                self._send_json(400, {"error": {"message": "invalid JSON body"}})
                return
            stub._enter()
            try:
                self._answer(body)
            finally:
                stub._leave()

        def _answer(self, body: dict) -> None:
            model = str(body.get("model"))
            messages = body.get("messages") or []
            text = _last_user_text(messages)
            faults = stub._active_faults(model, text)
            status = next((f.status for f in faults if f.status is not None), 200)
            stub._record(
                SeenRequest(
                    model, messages, body, self.headers.get("Authorization"), status
                )
            )

            if any(fault.hang for fault in faults):
                self._hang()
                return
            delay = stub.delay_s + sum(fault.delay_s for fault in faults)
            if delay:
                time.sleep(delay)
            if status != 200:
                fault = next(f for f in faults if f.status is not None)
                self._send_error(fault)
                return
            self._send_json(200, self._completion(model, messages))

        def _hang(self) -> None:
            # Wait in short steps so the thread ends soon after stop().
            deadline = time.monotonic() + HANG_LIMIT_S
            while time.monotonic() < deadline and not stub._release.is_set():
                time.sleep(0.05)
            self.close_connection = True

        def _send_error(self, fault: Fault) -> None:
            headers = {}
            if fault.retry_after is not None:
                headers["retry-after"] = f"{fault.retry_after:g}"
            message = f"stub fault {fault.status} for {fault.match!r}"
            if fault.echo_authorization:
                message += (
                    f"; rejected credentials: {self.headers.get('Authorization')}"
                )
            payload = {
                "error": {
                    "message": message,
                    "type": "rate_limit_error"
                    if fault.status == 429
                    else "server_error",
                    "code": str(fault.status),
                }
            }
            self._send_json(fault.status, payload, headers)

        def _completion(self, model: str, messages: list) -> dict:
            reply = stub.reply_text(model, messages)
            prompt_tokens = messages_word_count(messages)
            completion_tokens = word_count(reply)
            return {
                "id": f"chatcmpl-stub-{len(stub.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": stub.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }

        def _send_json(self, status: int, payload: dict, headers=None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout), so no one reads the response.
                self.close_connection = True

    return Handler

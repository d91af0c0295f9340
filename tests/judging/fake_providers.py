"""A local fake of the OpenAI chat-completions and Anthropic messages APIs.

``FakeProviderServer`` runs ``http.server`` in a thread on 127.0.0.1 at a free port.
Each request takes the next scripted action (``server.script(...)``); when the script
is empty it answers with ``server.always(...)``'s action, else with what
``server.answer_with(fn)``'s function returns for the request, else ``Success()``.
Every request is recorded, so tests can count provider calls. Point
``OpenAIJudge(base_url=server.openai_url)`` or
``AnthropicJudge(base_url=server.anthropic_url)`` at it; nothing reaches the network.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Success:
    text: str = "A"
    # first-token alternatives as (token, probability); None = no logprobs block
    top: tuple[tuple[str, float], ...] | None = (("A", 0.8), ("B", 0.2))
    input_tokens: int = 120
    output_tokens: int = 1
    delay: float = 0.0
    truncated: bool = False  # stopped at max_tokens ("length" / "max_tokens")


@dataclass(frozen=True)
class RateLimited:
    retry_after: str | None = "1"


@dataclass(frozen=True)
class ServerError:
    status: int = 500


@dataclass(frozen=True)
class Status:
    """Any status with a JSON error body (e.g. 401 with a message)."""

    status: int
    message: str = "error"


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for ``seconds`` (client times out)."""

    seconds: float = 30.0


@dataclass(frozen=True)
class Malformed:
    """A 200 with a body that is not JSON (cut off mid-object)."""

    body: str = '{"id": "chatcmpl-1", "choices": [{"index": 0, "mess'


Action = Success | RateLimited | ServerError | Status | Hang | Malformed


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # names in lower case
    at: float


@dataclass
class _State:
    script: deque[Action] = field(default_factory=deque)
    repeat: Action | None = None
    responder: Callable[[Recorded], Action] | None = None
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def _openai_body(action: Success, model: str) -> dict[str, Any]:
    logprobs = None
    if action.top is not None:
        top = [
            {"token": tok, "logprob": math.log(p), "bytes": list(tok.encode())}
            for tok, p in action.top
        ]
        first = top[0] if top else {"token": action.text[:1], "logprob": 0.0}
        logprobs = {"content": [{**first, "top_logprobs": top}], "refusal": None}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": action.text},
                "logprobs": logprobs,
                "finish_reason": "length" if action.truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": action.input_tokens,
            "completion_tokens": action.output_tokens,
            "total_tokens": action.input_tokens + action.output_tokens,
        },
    }


def _anthropic_body(action: Success, model: str) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": action.text}],
        "stop_reason": "max_tokens" if action.truncated else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": action.input_tokens,
            "output_tokens": action.output_tokens,
        },
    }


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server writes the headers and the body in two sends; with Nagle on,
        # the body waits for the client's delayed ACK (about 40 ms a call). Real
        # provider front ends set TCP_NODELAY, and so does the fake.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self, status: int, body: str, headers: dict[str, str] | None = None
        ) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            recorded = Recorded(
                self.path,
                body,
                {k.lower(): v for k, v in self.headers.items()},
                time.monotonic(),
            )
            with state.lock:
                state.requests.append(recorded)
                responder = state.responder
                action = state.script.popleft() if state.script else state.repeat
            if action is None:
                # Outside the lock: a responder may look at ``server.requests``.
                action = responder(recorded) if responder is not None else Success()
            model = str(body.get("model", "fake-model"))
            anthropic = self.path.rstrip("/").endswith("/messages")
            # A client that gave up (timeout) has closed the socket: nothing to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._act(action, model, anthropic=anthropic)

        def _act(self, action: Action, model: str, *, anthropic: bool) -> None:
            if isinstance(action, Success):
                if action.delay:
                    state.stop.wait(action.delay)
                body = (
                    _anthropic_body(action, model)
                    if anthropic
                    else _openai_body(action, model)
                )
                self._send(200, json.dumps(body))
            elif isinstance(action, RateLimited):
                headers = {}
                if action.retry_after is not None:
                    headers["Retry-After"] = action.retry_after
                self._send(429, _error("rate limited", anthropic), headers)
            elif isinstance(action, ServerError):
                self._send(action.status, _error("server error", anthropic))
            elif isinstance(action, Status):
                self._send(action.status, _error(action.message, anthropic))
            elif isinstance(action, Hang):
                state.stop.wait(action.seconds)
                self.close_connection = True
            elif isinstance(action, Malformed):
                self._send(200, action.body)

    return Handler


def _error(message: str, anthropic: bool) -> str:
    if anthropic:
        return json.dumps(
            {"type": "error", "error": {"type": "api_error", "message": message}}
        )
    return json.dumps({"error": {"message": message, "type": "api_error"}})


class FakeProviderServer:
    """Context manager: ``with FakeProviderServer() as server: ...``."""

    def __init__(self) -> None:
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.url

    def script(self, *actions: Action) -> None:
        with self._state.lock:
            self._state.script.extend(actions)

    def always(self, action: Action | None) -> None:
        """Answer every unscripted request with ``action`` (None: stop doing so)."""
        with self._state.lock:
            self._state.repeat = action

    def answer_with(self, responder: Callable[[Recorded], Action]) -> None:
        """Answer every unscripted request with ``responder(request)``."""
        with self._state.lock:
            self._state.responder = responder

    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def __enter__(self) -> FakeProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.stop.set()  # release hanging handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

"""The ASGI app ``xlfuncs serve`` runs: xlwings Server's own app behind a guard.

For ``POST /xlwings/custom-functions-call`` the guard

* refuses a body that is not declared JSON with 415 and a one-line reason (FastAPI's own
  422 echoed the whole body back), and a body over the size limit with 413 before reading
  it (Content-Length) or as soon as a streamed body passes it (``$XLFUNCS_MAX_REQUEST_MB``,
  16 MB by default), and one of more cells than the limit allows (one per 12 bytes)
  before parsing it;
* refuses a malformed call with 400 and the reason (:mod:`xlfuncs.server_requests`);
* estimates the call's cost from its arguments (:mod:`xlfuncs.server_cost`) and refuses
  one over the cost limit with 413, the limit and how to split it;
* runs a call inline when it is small (64 KB of JSON at most) and cheap (no more than one
  quick pass of the story model), and every other call in the large-call process
  (:mod:`xlfuncs.server_calls`), one at a time and each within the time limit: the
  event loop keeps answering single cells meanwhile, and a call that runs too long, or
  whose client has gone, is stopped with its process;
* turns an exception that escapes a function into a 500 that names the call and is
  logged with its traceback (a bug of ours: a request's fault is a 400 before that).

The guard sits inside xlwings Server's CORS middleware, so refusals carry CORS headers.
Import only in a process ``xlfuncs serve`` configured (``XLWINGS_*`` in the environment).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.requests import Request
from xlwings_server import main as xlwings_main
from xlwings_server.config import settings
from xlwings_server.routers import xlwings as xlwings_router

from .server_calls import Answer, CallProcess, busy, run_or_drop
from .server_cost import Cost, estimate, max_valuations, over_limit
from .server_requests import (
    BadRequest,
    check_call,
    content_type_refusal,
    functions_of,
    limit_mb,
    parse,
    summary,
)
from .server_requests import too_large as too_large_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("xlfuncs.server")
CALL_PATH = f"{settings.app_path}/xlwings/custom-functions-call"
INLINE_BYTES = 64 * 1024  # ~5,000 cells: a few ms of work, fine on the event loop
LIMIT_BYTES = int(limit_mb() * 1e6)
MAX_VALUATIONS = max_valuations()
# The bodies of large calls waiting for the call process are held in memory: at most four
# limits' worth per worker; beyond that, 503 (busy, Excel retries it later)
WAITING_BYTES = 4 * LIMIT_BYTES
_CURRENT_CALL: ContextVar[str] = ContextVar("xlfuncs_current_call", default="a call")


async def respond(send: Send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status,
                "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


async def refuse(send: Send, refusal: BadRequest) -> None:
    logger.info("refused (%d): %s", refusal.status, refusal.reason)
    await respond(send, Answer.text(refusal.status, refusal.reason))


class Disconnected(Exception):
    """The client went away before sending its whole body."""


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise BadRequest("Content-Length is not a number") from None
            if declared > limit:
                raise too_large_error(declared, limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # chunked, or a Content-Length that lied
            raise too_large_error(None, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, then: Receive | None) -> Receive:
    """A receive() that hands over the body already read, then waits for a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        await asyncio.Event().wait()  # in the call process: no client to disconnect
        raise AssertionError("unreachable")

    return receive


def validated(body: bytes) -> tuple[Any, bytes, Cost]:
    """The parsed call, the bytes to hand on and its cost; BadRequest (400, 413) when it
    is malformed or over a limit."""
    data, body = parse(body, LIMIT_BYTES)
    check_call(data, functions_of(xlwings_router.custom_functions))
    cost = estimate(data["func_name"], data["args"])
    refusal = over_limit(cost, MAX_VALUATIONS)
    if refusal is not None:
        raise refusal
    return data, body, cost


async def run_app(app: ASGIApp, scope: Scope, body: bytes, send: Send,
                  receive: Receive | None = None) -> None:
    """Run a validated call through xlwings Server's app."""
    started = False

    async def watched(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, _replay(body, receive), watched)
    except Exception:
        if not started:
            raise
        # Starlette re-raises after the 500 went out; internal_error already logged it


async def internal_error(request: Request, exc: Exception) -> PlainTextResponse:
    """A bug of ours: logged with the call and the traceback; the reply says where to look."""
    reference = uuid.uuid4().hex[:8]
    logger.error("internal error %s on %s %s, %s", reference, request.method,
                 request.url.path, _CURRENT_CALL.get(), exc_info=exc)
    return PlainTextResponse(
        f"xlfuncs: internal error ({type(exc).__name__}, reference {reference}); this is a "
        "bug, not your input: the server log has the details, please report it",
        status_code=500)


async def invalid_request(request: Request, exc: RequestValidationError) -> PlainTextResponse:
    """FastAPI's 422 for a request its endpoint cannot read, without FastAPI's echo of the
    input (a 2 MB body came back whole): where and what, in one line."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return PlainTextResponse(f"xlfuncs: {where or 'the request'}: "
                             f"{first.get('msg', 'not what this endpoint reads')}",
                             status_code=422)


xlwings_main.app.add_exception_handler(Exception, internal_error)
xlwings_main.app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]


# ---- in the large-call process ----------------------------------------------------------

def child_call(scope: dict[str, Any], body: bytes) -> tuple[int, list[Any], bytes]:
    """Run one call in the call process: (status, headers, body) of the response."""
    return asyncio.run(_collect(scope, body))


async def _collect(scope: dict[str, Any], body: bytes) -> tuple[int, list[Any], bytes]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    try:
        data, body, _ = validated(body)
        _CURRENT_CALL.set(summary(data))
        del data  # the app parses the body again; do not hold two copies of a large range
        await run_app(xlwings_main.app, scope, body, send)
    except BadRequest as refusal:
        await refuse(send, refusal)
    except Exception as exc:  # pragma: no cover  (the app answers its own errors)
        logger.exception("internal error in the call process, %s", _CURRENT_CALL.get())
        return 500, [], f"xlfuncs: internal error ({type(exc).__name__})".encode()
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], list(start.get("headers", [])), content


def _picklable(scope: Scope) -> dict[str, Any]:
    keep = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path",
            "root_path", "query_string", "headers", "client", "server")
    return {key: scope[key] for key in keep if key in scope}


# ---- in the server ----------------------------------------------------------------------

CALLS = CallProcess()


class Guard:
    """Content type, size and cost limits, validation, and where a call runs, for the call
    endpoint."""

    def __init__(self, app: ASGIApp, limit: int = LIMIT_BYTES,
                 calls: CallProcess = CALLS) -> None:
        self.app = app
        self.limit = limit
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] != CALL_PATH
                or scope["method"] != "POST"):
            await self.app(scope, receive, send)
            return
        try:
            refusal = content_type_refusal(dict(scope.get("headers", [])).get(b"content-type"))
            if refusal is not None:
                raise refusal
            body = await read_body(scope, receive, self.limit)
            what = "the call"
            if len(body) <= INLINE_BYTES:  # parsed here: a few ms at most
                data, body, cost = validated(body)
                _CURRENT_CALL.set(summary(data))
                del data
                if cost.inline:
                    await run_app(self.app, scope, body, send, receive)
                    return
                what = cost.function.upper()
        except BadRequest as refusal:
            await refuse(send, refusal)
            return
        except Disconnected:
            return
        await self.off_the_loop(scope, receive, send, body, what)

    async def off_the_loop(self, scope: Scope, receive: Receive, send: Send, body: bytes,
                           what: str) -> None:
        """A call in the large-call process: 503 when too many bytes wait for it already;
        nothing at all when the client left before the answer."""
        if self.calls.waiting_bytes + len(body) > WAITING_BYTES:
            await respond(send, busy(f"{self.calls.waiting_bytes / 1e6:.0f} MB waiting; a "
                                     f"{len(body) / 1e6:.1f} MB call refused"))
            return
        answer = await run_or_drop(self.calls, _picklable(scope), body, what, receive)
        if answer is not None:
            await respond(send, answer)


class Lifespan:
    """Start the large-call process with the server and stop it when the server shuts
    down (uvicorn has answered the calls in progress by then, or given up on them)."""

    def __init__(self, app: ASGIApp, calls: CallProcess = CALLS) -> None:
        self.app = app
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.calls.start()
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.calls.stop)
            return message

        await self.app(scope, watched, send)


xlwings_main.cors_app.app = Guard(xlwings_main.app)
app = Lifespan(xlwings_main.main_app)

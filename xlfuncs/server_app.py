"""The ASGI app ``xlfuncs serve`` runs: xlwings Server's own app behind a guard.

For ``POST /xlwings/custom-functions-call`` the guard

* refuses a body over the size limit with 413 before reading it (Content-Length) or as
  soon as a streamed body passes it (``$XLFUNCS_MAX_REQUEST_MB``, 16 MB by default), and
  one of more cells than the limit allows (one per 12 bytes) before parsing it;
* refuses a malformed call with 400 and the reason (:mod:`xlfuncs.server_requests`);
* runs a small call inline and a large one (over 64 KB of JSON) in a separate process,
  one call at a time: the CPU-bound numpy work and the JSON of a large range stay off the
  event loop, so single-cell calls are answered while it runs, and the memory of large
  calls is bounded by one call per worker (and four limits' worth of waiting bodies, past
  which a large call gets 503 with Retry-After: busy, not broken, so Excel retries it);
* turns an exception that escapes a function into a 500 that names the call and is
  logged with its traceback (a bug of ours: a request's fault is a 400 before that).

The guard sits inside xlwings Server's CORS middleware, so refusals carry CORS headers.
Import only in a process ``xlfuncs serve`` configured (``XLWINGS_*`` in the environment).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextvars import ContextVar
from typing import Any

from fastapi.responses import PlainTextResponse
from starlette.requests import Request
from xlwings_server import main as xlwings_main
from xlwings_server.config import settings
from xlwings_server.routers import xlwings as xlwings_router

from .server_requests import BadRequest, check_call, functions_of, limit_mb, parse, summary
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
# The bodies of large calls waiting for the call process are held in memory: at most four
# limits' worth per worker; beyond that, 503 (busy, Excel retries it later)
WAITING_BYTES = 4 * LIMIT_BYTES
RETRY_SECONDS = 10
_CURRENT_CALL: ContextVar[str] = ContextVar("xlfuncs_current_call", default="a call")


async def respond(send: Send, status: int, text: str,
                  headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


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


async def checked_call(app: ASGIApp, scope: Scope, body: bytes, send: Send,
                       receive: Receive | None = None) -> None:
    """Validate the body, then run the call through xlwings Server's app."""
    try:
        data, body = parse(body, LIMIT_BYTES)
        check_call(data, functions_of(xlwings_router.custom_functions))
    except BadRequest as refusal:
        logger.info("refused (%d): %s", refusal.status, refusal.reason)
        await respond(send, refusal.status, refusal.reason)
        return
    _CURRENT_CALL.set(summary(data))
    del data  # the app parses the body again; do not hold two copies of a large range
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


xlwings_main.app.add_exception_handler(Exception, internal_error)


# ---- the process for large calls --------------------------------------------------------

def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the server is gone (killed): do not linger


def _child_start(parent: int) -> None:
    # SIGTERM/Ctrl+C reach the whole process group; the server finishes the call in
    # progress and then shuts this process down itself
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _child_ready() -> int:
    return os.getpid()


def child_call(scope: dict[str, Any], body: bytes) -> tuple[int, list[Any], bytes]:
    """Run one call in the call process: (status, headers, body) of the response."""
    return asyncio.run(_collect(scope, body))


async def _collect(scope: dict[str, Any], body: bytes) -> tuple[int, list[Any], bytes]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    try:
        await checked_call(xlwings_main.app, scope, body, send)
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


class CallProcess:
    """One process, started with the server, that runs the large calls one at a time."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.waiting_bytes = 0  # bodies of the large calls queued or running

    def start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_start, initargs=(os.getpid(),))
            self._pool.submit(_child_ready)  # import the app now, not on the first call
        return self._pool

    async def run(self, scope: Scope, body: bytes) -> tuple[int, list[Any], bytes]:
        pool = self.start()
        self.waiting_bytes += len(body)
        try:
            return await asyncio.wrap_future(pool.submit(child_call, _picklable(scope), body))
        except BrokenProcessPool:
            self._pool = None  # the next large call starts a new process
            raise
        finally:
            self.waiting_bytes -= len(body)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # a call in progress finishes first
            self._pool = None


CALLS = CallProcess()


class Guard:
    """Size limit, validation, and the large-call process, for the call endpoint."""

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
            body = await read_body(scope, receive, self.limit)
        except BadRequest as refusal:
            logger.info("refused (%d): %s", refusal.status, refusal.reason)
            await respond(send, refusal.status, refusal.reason)
            return
        except Disconnected:
            return
        if len(body) <= INLINE_BYTES:
            await checked_call(self.app, scope, body, send, receive)
            return
        if self.calls.waiting_bytes + len(body) > WAITING_BYTES:
            logger.warning("busy: %.1f MB of large calls waiting; a %.1f MB call refused",
                           self.calls.waiting_bytes / 1e6, len(body) / 1e6)
            await respond(send, 503, f"xlfuncs: busy with other large calls "
                          f"({self.calls.waiting_bytes / 1e6:.0f} MB waiting); try again in "
                          f"{RETRY_SECONDS} s, or split the range",
                          ((b"retry-after", str(RETRY_SECONDS).encode()),))
            return
        try:
            status, headers, content = await self.calls.run(scope, body)
        except BrokenProcessPool:
            logger.exception("the large-call process died (out of memory?) during %d bytes",
                             len(body))
            await respond(send, 500, "xlfuncs: the process for large calls died (out of "
                                     "memory?); the server log has the details")
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


class Lifespan:
    """Start the large-call process with the server and stop it (after the call in
    progress) when the server shuts down."""

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

"""The large-call process: one process per server worker that runs the calls too heavy
for the event loop, one at a time, each within a bound.

* A call waits its turn (and for a new process to start) at most the time limit; then
  it gets 503 with Retry-After (busy, not broken: Excel retries it).
* A call runs at most the time limit (``$XLFUNCS_MAX_CALL_SECONDS``, 60 s by default);
  past it the process is killed and a new one started, and the call gets 422 with the
  limit and how to split it.
* A call whose client has gone (Excel gave up, the user closed the workbook) is stopped
  the same way, waiting or running: nobody is left to read its answer.
* The process runs at a lower CPU priority (nice 10): on a busy machine the event loop,
  which answers the single cells, gets the core first.
* The process ignores SIGTERM and Ctrl+C (the server, which gets them too, finishes the
  call in progress and then stops it) and exits by itself if the server is killed.

Imports nothing of xlwings Server: the process imports :mod:`xlfuncs.server_app` itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .server_requests import SECONDS_ENV, call_seconds

logger = logging.getLogger("xlfuncs.server")
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
RETRY_SECONDS = 10
START_SECONDS = 120.0  # a new process imports xlwings Server and numpy: seconds, not minutes
READY = "ready"
# The process yields a busy core to the server's event loop: single cells first
NICENESS = 10


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (ASGI pairs) and body."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @classmethod
    def text(cls, status: int, text: str,
             headers: tuple[tuple[bytes, bytes], ...] = ()) -> Answer:
        body = text.encode()
        return cls(status, body, [(b"content-type", b"text/plain; charset=utf-8"),
                                  (b"content-length", str(len(body)).encode()), *headers])


class ChildDied(Exception):
    """The process ended without answering (killed by the kernel: out of memory?)."""


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the server is gone (killed): do not linger


def child_main(connection: Any, parent: int) -> None:
    """The process: import the app, say so, then answer calls until the pipe closes."""
    # SIGTERM/Ctrl+C reach the whole process group; the server finishes the call in
    # progress and then stops this process itself
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(AttributeError, OSError):  # os.nice: Unix only
        os.nice(NICENESS)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from .server_app import child_call  # the app, in this process

    with contextlib.suppress(EOFError, OSError):  # the pipe closed: the server is done
        connection.send(READY)
        while True:
            scope, body = connection.recv()
            connection.send(child_call(scope, body))


class PipeThread:
    """One daemon thread that runs jobs in order: the exchanges with a process, off the
    event loop. Daemon: a thread stuck on a busy process must not hold up the exit."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]
                                      | None] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="xlfuncs-pipe", daemon=True).start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, function, args = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as exc:  # handed to whoever awaits the job
                    future.set_exception(exc)

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, function, args))
        return asyncio.wrap_future(future)

    def stop(self) -> None:
        self._jobs.put(None)


class Child:
    """One process, and the thread that speaks to it over the pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=child_main, args=(theirs, os.getpid()),
                                       name="xlfuncs large calls", daemon=True)
        self.process.start()
        theirs.close()
        self.pipe = PipeThread()
        self.ready = False
        # multiprocessing joins its children at exit, and this one ignores SIGTERM
        atexit.register(self.kill)

    def wait_ready(self) -> None:
        """Block until the process has imported the app (on the pipe's thread)."""
        if self.ready:
            return
        try:
            started = self.connection.poll(START_SECONDS) and (
                self.connection.recv() == READY)
        except (EOFError, OSError):
            started = False
        if not started:
            raise ChildDied("the process for large calls did not start")
        self.ready = True

    def call(self, scope: dict[str, Any], body: bytes) -> Answer:
        """Send a call and wait for its answer (on the pipe's thread)."""
        try:
            self.connection.send((scope, body))
            status, headers, content = self.connection.recv()
        except (EOFError, OSError) as exc:
            raise ChildDied(str(exc)) from None
        return Answer(status, content, headers)

    def stop(self, wait: float = 2.0) -> None:
        """Close the pipe (an idle process exits when it sees it) and kill what remains
        (a process still importing, say)."""
        with contextlib.suppress(OSError):
            self.connection.close()
        self.process.join(wait)
        self.kill()

    def kill(self) -> None:
        """Kill the process; the pipe's thread sees the pipe close and ends."""
        atexit.unregister(self.kill)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5.0)
        self.pipe.stop()

    @property
    def pid(self) -> int | None:
        return self.process.pid


def _quiet(future: asyncio.Future[Any]) -> None:
    """An exchange nobody waits for any more (its process was killed)."""
    if not future.cancelled():
        future.exception()


class CallProcess:
    """The large-call process of this server worker, and the calls waiting for it.

    A call is answered within twice the time limit of its arrival at most: waiting its
    turn (and for a new process to start) up to the limit, running up to the limit."""

    def __init__(self, seconds: float | None = None) -> None:
        self._seconds = seconds
        self._child: Child | None = None
        self._turn: asyncio.Lock | None = None
        self.waiting_bytes = 0  # bodies of the large calls waiting or running

    @property
    def seconds(self) -> float:
        if self._seconds is None:
            self._seconds = call_seconds()
        return self._seconds

    def start(self) -> Child:
        if self._child is None:
            self._child = Child()
        return self._child

    def _replace(self, why: str) -> None:
        """Kill the process mid-call and start its successor (it imports meanwhile)."""
        if self._child is not None:
            logger.warning("stopping the large-call process (pid %s): %s", self._child.pid,
                           why)
            self._child.kill()
            self._child = None
        self.start()

    async def run(self, scope: dict[str, Any], body: bytes, what: str) -> Answer:
        """Run a call in the process within the bounds. Cancelled (client gone, server
        stopping), it stops the process if the call was running."""
        if self._turn is None:
            self._turn = asyncio.Lock()  # FIFO: calls run in the order they came
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        self.waiting_bytes += len(body)
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await self._turn.acquire()
            except TimeoutError:
                return busy(f"{what} waited {self.seconds:g} s for its turn")
            try:
                return await self._run_now(scope, body, what, deadline)
            finally:
                self._turn.release()
        finally:
            self.waiting_bytes -= len(body)

    async def _run_now(self, scope: dict[str, Any], body: bytes, what: str,
                       deadline: float) -> Answer:
        child = self.start()
        try:
            async with asyncio.timeout_at(deadline):
                await child.pipe.submit(child.wait_ready)
        except TimeoutError:
            return busy(f"{what} waited {self.seconds:g} s for the large-call process to "
                        "start")
        except ChildDied:
            self._replace("it did not start")
            return Answer.text(500, "xlfuncs: the process for large calls did not start; "
                                    "the server log has the details")
        exchange = child.pipe.submit(child.call, scope, body)
        exchange.add_done_callback(_quiet)
        try:
            async with asyncio.timeout(self.seconds):
                return await exchange
        except TimeoutError:
            self._replace(f"{what} passed the time limit of {self.seconds:g} s")
            return too_long(what, self.seconds)
        except ChildDied:
            logger.error("the large-call process died (out of memory?) during %s", what)
            self._replace("it died")
            return Answer.text(500, "xlfuncs: the process for large calls died (out of "
                                    "memory?); the server log has the details")
        except asyncio.CancelledError:
            self._replace(f"{what} was cancelled (its client has gone, or the server "
                          "is stopping)")
            raise

    def stop(self) -> None:
        """At shutdown, once the calls in progress are answered."""
        if self._child is not None:
            self._child.stop()
            self._child = None


def busy(why: str) -> Answer:
    """503 with Retry-After: busy, not broken, so Excel retries it."""
    logger.warning("busy: %s", why)
    return Answer.text(503, f"xlfuncs: busy with other large calls ({why}); try again in "
                            f"{RETRY_SECONDS} s, or split the call",
                       ((b"retry-after", str(RETRY_SECONDS).encode()),))


def too_long(what: str, seconds: float) -> Answer:
    return Answer.text(422, f"xlfuncs: {what} was stopped after {seconds:g} s, the time "
                            "limit of a call: split it into smaller calls (fewer companies, "
                            "draws or rows), or raise the limit with xlfuncs serve "
                            f"--max-call-seconds or {SECONDS_ENV}")


async def until_disconnected(receive: Receive) -> None:
    """Return when the client has gone (the body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def run_or_drop(calls: CallProcess, scope: dict[str, Any], body: bytes, what: str,
                      receive: Receive) -> Answer | None:
    """The call's answer, or None when its client went away first (then it was stopped)."""
    call = asyncio.ensure_future(calls.run(scope, body, what))
    gone = asyncio.ensure_future(until_disconnected(receive))
    try:
        await asyncio.wait({call, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not call.done():
            call.cancel()
            logger.info("%s: the client has gone; stopped", what)
        await asyncio.gather(call, gone, return_exceptions=True)
    return None if call.cancelled() else call.result()

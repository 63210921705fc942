"""`xlfuncs serve` under story-heavy calls (issue 21), against real servers on loopback:
each case of the issue reproduced, and the bounds every call now has.

* 1,000 companies x 1,000,000 draws (46 KB) and 15,000 companies x the default draws get
  413 with the cost limit and how to split the call, before they run;
* VAL_STORY_IMPLIED over 100,000 companies is answered with the server's processes under
  1 GiB;
* a 3-company simulation of 1,000,000 draws runs off the event loop: single cells are
  answered meanwhile;
* a body that is not declared JSON gets 415 in one line, never the body back;
* a call past the time limit, or whose client has gone, is stopped with its process,
  which is replaced; calls that wait past the limit get 503; SIGTERM ends the server
  mid-call within its graceful timeout.

Every loop is bounded in count and time, every request goes to 127.0.0.1; the servers
stop at the end of their tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xlfuncs.server import GRACEFUL_MARGIN_SECONDS, plan
from xlfuncs.server_calls import NICENESS
from xlfuncs.server_requests import SECONDS_ENV
from xlfuncs.story import implied

from .test_server import HOST, running
from .test_server_requests import CALL, post, raw_exchange, wait_for, with_fields

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(),
                                reason="watches the server's processes in Linux /proc")
LABELS = ["revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
          "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10", "riskfree",
          "cost_of_capital"]
NORMAL = [["growth_2_5", "normal", 0.3, 0.1]]
SHORT_SECONDS = 2  # the time limit of the bounded server
GIB = 2**30


def stories(count: int, seed: int = 2) -> list[list[Any]]:
    """Labels in the first row, a company a row, 3 decimals (about 46 bytes a company)."""
    rng = np.random.default_rng(seed)
    columns = [rng.uniform(1, 100, count), rng.uniform(0, 1, count), rng.uniform(0, 0.5, count),
               rng.uniform(-1, 0.1, count), rng.uniform(0.1, 0.3, count),
               rng.integers(1, 11, count).astype(float), rng.uniform(1, 3, count),
               rng.uniform(1, 3, count), rng.uniform(0.02, 0.05, count),
               rng.uniform(0.08, 0.14, count)]
    rows = np.round(np.column_stack(columns), 3).tolist()
    return [LABELS, *rows]


def simulation(companies: int, draws: int | None = None, plain: bool = False) -> bytes:
    """A VAL_STORY_SIMULATE call; ``plain``: every company the article's small story."""
    table = [LABELS, *([100, 0.2, 0.15, 0.1, 0.2, 5, 2, 2, 0.04, 0.1] for _ in range(
        companies))] if plain else stories(companies)
    args: list[Any] = [table, NORMAL]
    if draws is not None:
        args.append([[draws]])
    return with_fields(func_name="val_story_simulate", formula_name="VAL_STORY_SIMULATE",
                       args=args)


def children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found += [int(child) for child in task.read_text().split()]
                todo += [int(child) for child in task.read_text().split()]
    return found


def call_process(server: int) -> int:
    """The pid of the server's large-call process (spawned by multiprocessing)."""
    for child in children(server):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
    raise AssertionError("no large-call process")


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def group(pgid: int) -> list[int]:
    """The processes of a process group that still run (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return total * os.sysconf("SC_PAGE_SIZE")


def ready(base: str) -> None:
    """A call off the event loop answered: the large-call process has started (a call
    that finds it still starting past the time limit gets 503: ask again, 60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        status, text = post(base, simulation(1, 2_000 + 1), timeout=120)
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200, text


Served = tuple[str, subprocess.Popen[bytes], Path]  # base URL, server, its log


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with the default limits."""
    tmp = tmp_path_factory.mktemp("stories")
    with running(tmp) as (base, process):
        yield base, process, tmp / f"server-{base.rsplit(':', 1)[1]}.log"


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose calls may run 2 s."""
    tmp = tmp_path_factory.mktemp("bounded")
    with running(tmp, environ={SECONDS_ENV: str(SHORT_SECONDS)}) as (base, process):
        yield base, process, tmp / f"server-{base.rsplit(':', 1)[1]}.log"


def log_after(log: Path, start: int) -> str:
    return log.read_text(errors="replace")[start:]


# ---- the cost of a call decides, before it runs ------------------------------------------

def test_a_billion_valuation_simulation_gets_413_before_it_runs(served: Served) -> None:
    base, _, log = served
    body = simulation(1_000, 1_000_000, plain=True)
    assert len(body) < 64 * 1024  # 46 KB: the request, parsed by the server
    start = len(log.read_text(errors="replace"))
    status, text = post(base, body)
    assert status == 413, text[:300]
    assert "1,000 companies x 1,000,000 draws is 1,000,000,000 story valuations" in text
    assert "the limit is 5,000,000 a call" in text and "at most 5 companies" in text
    assert "draw at most 5,000 times" in text and "--max-valuations" in text
    assert 'Function "val_story_simulate" called' not in log_after(log, start)


def test_a_simulation_in_a_large_body_gets_413_in_the_call_process_which_stays(
        served: Served) -> None:
    base, process, log = served
    ready(base)
    before = call_process(process.pid)
    body = simulation(15_000)  # the default 10,000 draws
    assert len(body) > 64 * 1024  # read in the large-call process
    start = len(log.read_text(errors="replace"))
    status, text = post(base, body)
    assert status == 413, text[:300]
    assert "15,000 companies x 10,000 draws is 150,000,000 story valuations" in text
    assert "at most 500 companies" in text
    assert 'Function "val_story_simulate" called' not in log_after(log, start)
    assert call_process(process.pid) == before  # refused, not stopped
    assert post(base, with_fields(args=[[[300]], [[2]]])) == (200, '{"result":[[150.0]]}')


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_large_call_process_yields_a_busy_core_to_the_event_loop(served: Served) -> None:
    base, process, _ = served
    ready(base)
    assert niceness(call_process(process.pid)) == min(niceness(process.pid) + NICENESS, 19)
    assert NICENESS == 10


def test_implied_over_100000_companies_keeps_the_server_under_a_gib(served: Served) -> None:
    base, process, _ = served
    table = stories(100_000)
    body = with_fields(func_name="val_story_implied", formula_name="VAL_STORY_IMPLIED",
                       args=[table, [[30.0]], [["growth_2_5"]]])
    assert len(body) > 4 * 10**6
    peak = [rss_bytes([process.pid, *children(process.pid)])]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_bytes([process.pid, *children(process.pid)]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        status, text = post(base, body, timeout=300)
    finally:
        done.set()
        sampler.join(10)
    assert status == 200, text[:300]
    answers = json.loads(text)["result"]
    assert len(answers) == 100_000 and peak[0] < GIB, peak[0] / 2**20
    for row in (0, 1, 777, 50_000, 99_999):  # the engine on its own, company by company
        story = dict(zip(LABELS, ([v] for v in table[row + 1]), strict=True))
        expected = implied.implied(story, 30.0, "growth_2_5").cells()[0]
        assert answers[row][0] == (expected if isinstance(expected, float)
                                   else {"type": "Error", "errorType": "Num"}), row


def test_a_small_body_simulation_runs_off_the_loop_beside_single_cells(served: Served) -> None:
    base, _, log = served
    ready(base)
    body = simulation(3, 1_000_000)
    assert len(body) < 1_000  # the 610 bytes
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = len(log.read_text(errors="replace"))
        big = pool.submit(post, base, body, 300)
        wait_for(log, 'Function "val_story_simulate" called', start)
        answered = [post(base, with_fields(args=[[[cap * 10.0]], [[2.0]]]))
                    for cap in range(1, 6)]
        still_running = not big.done()
        status, text = big.result(timeout=300)
    assert answered == [(200, json.dumps({"result": [[cap * 5.0]]}, separators=(",", ":")))
                        for cap in range(1, 6)]
    assert still_running, "the single cells waited for the simulation"
    assert status == 200, text[:300]
    names, *companies = json.loads(text)["result"]
    assert names[-1] == "draws valued" and len(companies) == 3
    for stats in companies:
        assert stats[-1] == 1_000_000.0 and stats[1] < stats[3] < stats[5]  # p5 < p50 < p95


# ---- what is not JSON is refused in one line ----------------------------------------------

NOT_JSON = {
    "text/plain": b"text/plain",
    "a form": b"application/x-www-form-urlencoded",
    "multipart": b"multipart/form-data; boundary=xlfuncs",
    "XML": b"application/xml",
    "none": None,
}


@pytest.mark.parametrize("kind", list(NOT_JSON))
def test_a_body_not_declared_json_gets_415_in_one_line(served: Served, kind: str) -> None:
    base = served[0]
    body = with_fields(args=[[[1.5]] * 150_000, [[2.0]]])  # 2.1 MB, a valid call
    declared = NOT_JSON[kind]
    head = (f"POST {CALL} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
            + (f"Content-Type: {declared.decode()}\r\n" if declared else "") + "\r\n")
    answer = raw_exchange(base, head.encode(), [body])
    status, _, reply = answer.partition("\r\n\r\n")
    assert status.startswith("HTTP/1.1 415"), answer[:300]
    assert "Content-Type: application/json" in reply and "\n" not in reply.strip()
    assert len(reply) < 300 and "1.5" not in reply


UNGUARDED = """
import asyncio, sys
import httpx
from xlfuncs import server_app

async def main():
    # xlwings Server's app without the guard: FastAPI's own validation answers
    transport = httpx.ASGITransport(app=server_app.xlwings_main.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/xlwings/custom-functions-call",
                                     content=b"x" * 100_000 + b"MARKER",
                                     headers={"Content-Type": "text/plain"})
        print(response.status_code, response.text)

asyncio.run(main())
"""


def test_fastapis_own_422_no_longer_echoes_the_body(tmp_path: Path) -> None:
    """Behind the guard FastAPI's validation is not reached; should a request get there,
    its 422 names what is wrong without the input (it echoed all of it)."""
    env = {**os.environ, **plan(project=tmp_path, environ={
        "XLWINGS_LICENSE_KEY": "noncommercial"}).env}
    result = subprocess.run([sys.executable, "-c", UNGUARDED], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    status, _, reply = result.stdout.strip().partition(" ")
    assert status == "422", result.stdout + result.stderr[-2000:]
    assert reply.startswith("xlfuncs: body: ") and "MARKER" not in reply and len(reply) < 200


# ---- every call has a bound ---------------------------------------------------------------

LONG = 5  # companies x 1,000,000 draws: the cost limit, seconds of work past 2 s anywhere


def test_a_call_past_the_time_limit_is_stopped_and_its_process_replaced(
        bounded: Served) -> None:
    base, process, _ = bounded
    ready(base)
    before = call_process(process.pid)
    status, text = post(base, simulation(LONG, 1_000_000), timeout=120)
    assert status == 422, text[:300]
    assert f"VAL_STORY_SIMULATE was stopped after {SHORT_SECONDS} s, the time limit" in text
    assert "--max-call-seconds" in text and SECONDS_ENV in text
    assert gone(before)
    ready(base)  # a new process answers
    assert call_process(process.pid) != before


def test_a_call_whose_client_has_gone_is_stopped_with_its_process(bounded: Served) -> None:
    base, process, log = bounded
    ready(base)
    before = call_process(process.pid)
    start = len(log.read_text(errors="replace"))
    status, _ = post_giving_up(base, simulation(LONG, 1_000_000), after=1.0)
    assert status == "gave up"
    wait_for(log, "VAL_STORY_SIMULATE: the client has gone; stopped", start, timeout=30)
    deadline = time.monotonic() + 30
    while not gone(before):
        assert time.monotonic() < deadline, "the abandoned call's process still runs"
        time.sleep(0.05)
    ready(base)


def post_giving_up(base: str, body: bytes, after: float) -> tuple[Any, str]:
    """POST and give up waiting after a while, closing the connection, as a client that
    times out does."""
    try:
        return post(base, body, timeout=after)
    except (TimeoutError, urllib.error.URLError):
        return "gave up", ""


def test_calls_waiting_past_the_time_limit_get_503_busy(bounded: Served) -> None:
    """Three long calls at once: the first is stopped at the limit; the others, waiting
    for it (or for the process that replaces it), get 503 and Retry-After in time."""
    base, _, log = bounded
    ready(base)
    with ThreadPoolExecutor(max_workers=3) as pool:
        start = len(log.read_text(errors="replace"))
        first = pool.submit(post_with_headers, base, simulation(LONG, 1_000_000))
        wait_for(log, 'Function "val_story_simulate" called', start)
        waiting = list(pool.map(lambda _: post_with_headers(
            base, simulation(LONG, 1_000_000)), range(2), timeout=120))
        assert first.result(timeout=120)[0] == 422
    assert {status for status, _, _ in waiting} <= {422, 503}, waiting
    busy = [(headers, text) for status, headers, text in waiting if status == 503]
    assert busy, waiting
    headers, text = busy[0]
    assert headers.get("retry-after") == "10" and "busy with other large calls" in text
    ready(base)


def post_with_headers(base: str, body: bytes) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(f"{base}{CALL}", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, \
            error.read().decode()


def test_sigterm_ends_the_server_mid_call_within_its_graceful_timeout(
        tmp_path: Path) -> None:
    with running(tmp_path, environ={SECONDS_ENV: str(SHORT_SECONDS)}) as (base, process):
        log = tmp_path / f"server-{base.rsplit(':', 1)[1]}.log"
        ready(base)
        worker = call_process(process.pid)
        start = len(log.read_text(errors="replace"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            running_call = pool.submit(post, base, simulation(LONG, 1_000_000), 120)
            wait_for(log, 'Function "val_story_simulate" called', start)
            waiting_call = pool.submit(post_giving_up, base, simulation(LONG, 1_000_000), 120)
            time.sleep(0.2)  # the second call is in, waiting its turn
            os.killpg(process.pid, signal.SIGTERM)  # as systemd does: the whole group
            graceful = SHORT_SECONDS + GRACEFUL_MARGIN_SECONDS
            assert process.wait(timeout=graceful) == -signal.SIGTERM
            status, text = running_call.result(timeout=10)
            waited = waiting_call.result(timeout=10)
        said = log.read_text(errors="replace")
        assert status == 422 and "stopped after" in text, text
        assert waited[0] in (422, 503, "gave up"), waited
        assert "Finished server process" in said and "Traceback" not in said, said[-2000:]
        assert gone(worker)
        deadline = time.monotonic() + 20  # the resource tracker follows the server out
        while group(process.pid):
            assert time.monotonic() < deadline, group(process.pid)
            time.sleep(0.1)

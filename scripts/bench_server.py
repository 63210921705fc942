"""The xlwings Server rows of scripts/bench.py: `xlfuncs serve` over HTTP on loopback.

* one VAL_PS call against an echo function on the same server, and a 100,000-row call
  against the same call in-process;
* single-cell latency (median, p99) idle and while 100,000-row calls run in parallel,
  with 1 worker and with 2, and while the heaviest story calls the default cost limit
  allows run (VAL_STORY_SIMULATE, VAL_STORY_IMPLIED): the loaded p99 must stay under 10x
  the idle p99, measured side by side;
* peak memory of the server's processes for the largest calls the default limits allow:
  a metric over 1,333,333 cells, VAL_STORY_IMPLIED over 133,000 companies,
  VAL_STORY_SIMULATE at the cost limit.

Every loop is bounded in count and time; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import PY, row, timed
from xlfuncs.server import plan
from xlfuncs.server_requests import DEFAULT_LIMIT_MB, max_cells

ECHO = '''

import xlwings as xw


@xw.func
def echo(value):
    """Returns its argument: the benchmark's baseline for one round trip."""
    return value
'''
LOAD_ROWS = 100_000
LOAD_CLIENTS = 2  # 100,000-row calls in flight at once, back to back
LOAD_SECONDS = 120  # the load clients stop by themselves after this, whatever happens
# A client that posts a prepared body again and again until told to stop (or time runs
# out): a separate process, so its work does not slow the probe's clock.
LOADER = """
import sys, time, urllib.error, urllib.request
url, path, stop = sys.argv[1], sys.argv[2], float(sys.argv[3])
body = open(path, "rb").read()
while time.time() < stop:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
        print("done", flush=True)
    except urllib.error.HTTPError as error:
        print(f"refused {error.code}", flush=True)
"""
STORY_LABELS = ["revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
                "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10",
                "riskfree", "cost_of_capital"]
# The heaviest story calls the default limits allow (5,000,000 story valuations a call;
# 1,333,333 cells): one load client posts them back to back.
SIMULATED = (5, 1_000_000)  # companies x draws
IMPLIED_COMPANIES = 100_000  # the call; 133,000 fill the cells limit
LARGEST_IMPLIED = 133_000


def payload(name: str, args: list[Any]) -> dict[str, Any]:
    return {"func_name": name, "args": args, "caller_address": "Sheet1!A1",
            "formula_name": name.upper(), "version": "0.37.8", "runtime": "1.4",
            "culture_info_name": "en-US", "date_format": "yyyy-mm-dd", "client": "Office.js"}


def post_body(base: str, body: bytes, timeout: float = 300) -> bytes:
    request = urllib.request.Request(f"{base}/xlwings/custom-functions-call", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def post(base: str, name: str, args: list[Any]) -> Any:
    return json.loads(post_body(base, json.dumps(payload(name, args)).encode()))["result"]


@contextlib.contextmanager
def serving(workers: int = 1, echo: bool = False) -> Iterator[tuple[str, int]]:
    """`xlfuncs serve`'s command on a free loopback port: (base URL, server pid)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as work:
        project = Path(work) / "project"
        chosen = plan(port=port, workers=workers, project=project,
                      environ={**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get(
                          "XLWINGS_LICENSE_KEY", "noncommercial")})
        if echo:
            with (project / "custom_functions" / "__init__.py").open("a") as init:
                init.write(ECHO)  # written after plan(), which would rewrite the file
        process = subprocess.Popen(chosen.argv, env=chosen.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    post(base, "val_ps", [[[1.0]], [[1.0]]])
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.3)
            time.sleep(2.0)  # the large-call process finishes importing
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(timeout=120)


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "runs": len(ordered)}


def single_cell_latency(base: str, calls: int, body: bytes | None = None,
                        warm: int = 20) -> dict[str, float]:
    """Latency of one small call (VAL_PS of one cell unless ``body``), posted ``calls``
    times in a row after ``warm`` untimed ones."""
    body = body or json.dumps(payload("val_ps", [[[323.2]], [[0.2156]]])).encode()
    for _ in range(warm):
        post_body(base, body)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        post_body(base, body)
        times.append(time.perf_counter() - start)
    return percentiles(times)


def column_call(rows: int, decimals: int = 4, top: float = 9999.0) -> bytes:
    rng = random.Random(11)
    caps = [[round(rng.uniform(1, top), decimals)] for _ in range(rows)]
    revenue = [[round(rng.uniform(1, 99), decimals)] for _ in range(rows)]
    return json.dumps(payload("val_ps", [caps, revenue])).encode()


def latency_under_load(workers: int, calls: int, load: bytes | None = None,
                       clients: int = LOAD_CLIENTS, probes: tuple[bytes | None, ...] = (None,)
                       ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each probe's latency (a one-cell VAL_PS by default) idle, then while ``clients``
    clients post ``load`` (a 100,000-row call by default) back to back: (idle, loaded)
    a probe, side by side on one server; the loaded side counts the load's answers."""
    with serving(workers) as (base, _), tempfile.TemporaryDirectory() as work:
        idle = [single_cell_latency(base, calls, probe) for probe in probes]
        body = Path(work) / "load.json"
        body.write_bytes(load or column_call(LOAD_ROWS))
        stop = time.time() + LOAD_SECONDS
        loaders = [subprocess.Popen([PY, "-c", LOADER, f"{base}/xlwings/custom-functions-call",
                                     str(body), str(stop)], stdout=subprocess.PIPE, text=True)
                   for _ in range(clients)]
        try:
            time.sleep(3.0)  # every loader has a call in flight
            # not warmed again: a warm-up call could absorb a stall the load causes
            loaded = [single_cell_latency(base, calls, probe, warm=0) for probe in probes]
        finally:
            said = ""
            for loader in loaders:  # a client gone: the server stops its call
                loader.terminate()
                said += loader.communicate(timeout=300)[0]
        for measured in loaded:
            measured["large_calls_done"] = said.count("done")
            measured["large_calls_refused"] = said.count("refused")
    return list(zip(idle, loaded, strict=True))


def story_table(companies: int) -> list[list[Any]]:
    """Random stories, labels in the first row and a company a row, 3 decimals."""
    rng = random.Random(7)
    return [STORY_LABELS, *([round(rng.uniform(1, 100), 3), round(rng.uniform(0, 1), 3),
                             round(rng.uniform(0, 0.5), 3), round(rng.uniform(-1, 0.1), 3),
                             round(rng.uniform(0.1, 0.3), 3), float(rng.randint(1, 10)),
                             round(rng.uniform(1, 3), 3), round(rng.uniform(1, 3), 3),
                             round(rng.uniform(0.02, 0.05), 3), round(rng.uniform(0.08, 0.14), 3)]
                            for _ in range(companies))]


def simulation_call(companies: int, draws: int) -> bytes:
    return json.dumps(payload("val_story_simulate", [
        story_table(companies), [["growth_2_5", "normal", 0.3, 0.1, None],
                                 ["target_margin", "triangular", 0.1, 0.2, 0.3]],
        [[draws]]])).encode()


def implied_call(companies: int) -> bytes:
    return json.dumps(payload("val_story_implied", [story_table(companies), [[30.0]],
                                                    [["growth_2_5"]]])).encode()


def tree(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(child) for child in task.read_text().split()]
    return found


def status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_memory(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """One call's time and the peak RSS of the server's processes while it runs (sampled
    sum; the sum of each process's own peak bounds it), beside one 100,000-row call on
    the same server."""
    with serving(1) as (base, pid):
        reference = timed(lambda: post_body(base, column_call(LOAD_ROWS)), 1)
        before = sum(status_kib(p, "VmRSS") for p in tree(pid))
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.01):
                peak = max(peak, sum(status_kib(p, "VmRSS") for p in tree(pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        answer = post_body(base, body)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        high_water = sum(status_kib(p, "VmHWM") for p in tree(pid))
        assert answer.startswith(b'{"result":'), answer[:200]
    ours = {"median": seconds, "min": seconds, "max": seconds, "runs": 1,
            "peak_mib": peak / 1024, "high_water_mib": high_water / 1024,
            "idle_mib": before / 1024, "body_mb": len(body) / 1e6}
    return ours, reference


def memory_note(ours: dict[str, Any], what: str) -> str:
    size = (f"{ours['body_mb']:.1f} MB" if ours["body_mb"] >= 0.1
            else f"{ours['body_mb'] * 1000:.1f} KB")
    return (f"{what}, a {size} body; peak RSS of the server's processes "
            f"{ours['peak_mib']:.0f} MiB sampled (idle {ours['idle_mib']:.0f} MiB; the sum "
            f"of each process's own peak {ours['high_water_mib']:.0f} MiB)")


def peak_memory_of_largest_call() -> tuple[dict[str, Any], dict[str, Any], str]:
    """The largest metric call the default limit allows."""
    cells = max_cells(int(DEFAULT_LIMIT_MB * 1e6))
    rows = (cells - 100) // 2  # two ranges; every cell but the last is followed by a comma
    body = column_call(rows, decimals=3, top=999.0)  # "[123.456]," under the byte limit too
    assert len(body) <= DEFAULT_LIMIT_MB * 1e6, len(body)
    ours, reference = peak_memory(body)
    ours["cells"] = 2 * rows
    return ours, reference, memory_note(ours, f"{2 * rows:,} cells ({rows:,} rows x 2 "
                                              "ranges)")


def bench_server(calls: int, rows: int, repeat: int) -> list[dict[str, Any]]:
    """Per-call latency against an echo function on the same server, and one
    {rows}-row range call over HTTP (loopback only, bounded loops)."""
    with serving(echo=True) as (base, _):
        def latency(name: str, args: list[Any]) -> dict[str, float]:
            for _ in range(20):  # warm
                post(base, name, args)
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                post(base, name, args)
                times.append(time.perf_counter() - start)
            return {"median": statistics.median(times), "min": min(times),
                    "max": max(times), "runs": calls}

        ours = latency("val_ps", [[[323.2]], [[0.2156]]])
        echo = latency("echo", [[[323.2]]])
        caps = [[float(i + 1)] for i in range(rows)]
        revenue = [[2.0 + i % 7] for i in range(rows)]
        big = timed(lambda: post(base, "val_ps", [caps, revenue]), repeat)

    from xlwings import server as runtime

    import xlfuncs.udfs as udfs

    local = timed(lambda: asyncio.run(runtime.custom_functions_call(
        payload("val_ps", [caps, revenue]), udfs)), repeat)
    return [
        row("xlwings Server: one VAL_PS call, HTTP round trip on loopback", ours,
            "a trivial echo function on the same server", echo, "<= 1.5x echo",
            lambda r, o: 1 / r <= 1.5, note=f"median of {calls} sequential calls"),
        row(f"xlwings Server: one VAL_PS call over {rows:,}-row ranges, HTTP", big,
            "the same call in-process, xlwings' runtime without HTTP", local,
            "reported", lambda r, o: True,
            note="the difference is JSON (~3 MB each way), HTTP and the large-call process"),
    ]


def bench_server_load(calls: int) -> list[dict[str, Any]]:
    """Single-cell latency under 100,000-row load (1 and 2 workers), and peak memory."""
    rows = []
    for workers in (1, 2):
        ((idle, loaded),) = latency_under_load(workers, calls)
        rows.append(row(
            f"xlwings Server, {workers} worker{'s' * (workers > 1)}: one-cell call while "
            f"{LOAD_CLIENTS} {LOAD_ROWS:,}-row calls run", loaded,
            "the same call on the idle server", idle, "p99 <= 10x idle p99",
            lambda r, o, idle=idle: o["p99"] <= 10 * idle["p99"],
            note=(f"{calls} sequential calls each; p99 {loaded['p99'] * 1000:.1f} ms loaded, "
                  f"{idle['p99'] * 1000:.1f} ms idle ({loaded['p99'] / idle['p99']:.1f}x); "
                  f"{loaded['large_calls_done']} large calls answered meanwhile")))
    ours, reference, note = peak_memory_of_largest_call()
    rows.append(row(
        f"xlwings Server: the largest call the default {DEFAULT_LIMIT_MB:g} MB limit allows",
        ours, f"one {LOAD_ROWS:,}-row call on the same server", reference,
        "peak RSS < 1 GiB", under_a_gib, note=note))
    return rows


def under_a_gib(ratio: float, ours: dict[str, Any]) -> bool:
    return ours["peak_mib"] < 1024 and ours["high_water_mib"] < 1024


def bench_server_stories(calls: int) -> list[dict[str, Any]]:
    """Single-cell latency beside the heaviest story calls the default limits allow, and
    the peak memory of the largest ones (issue 21)."""
    companies, draws = SIMULATED
    heavy = {f"VAL_STORY_SIMULATE of {companies} companies x {draws:,} draws":
             simulation_call(companies, draws),
             f"VAL_STORY_IMPLIED over {IMPLIED_COMPANIES:,} companies":
             implied_call(IMPLIED_COMPANIES)}
    one_story = json.dumps(payload("val_story", [story_table(1)])).encode()
    rows = []
    for what, load in heavy.items():
        (idle, loaded), (story_idle, story_loaded) = latency_under_load(
            1, calls, load, clients=1, probes=(None, one_story))
        rows.append(row(
            f"xlwings Server, 1 worker: one-cell call while {what} runs", loaded,
            "the same call on the idle server", idle, "p99 <= 10x idle p99",
            lambda r, o, idle=idle: o["p99"] <= 10 * idle["p99"],
            note=(f"{calls} sequential calls each; p99 {loaded['p99'] * 1000:.1f} ms loaded, "
                  f"{idle['p99'] * 1000:.1f} ms idle ({loaded['p99'] / idle['p99']:.1f}x); "
                  f"a one-company VAL_STORY (inline) beside it: p99 "
                  f"{story_loaded['p99'] * 1000:.1f} ms loaded, {story_idle['p99'] * 1000:.1f}"
                  f" ms idle ({story_loaded['p99'] / story_idle['p99']:.1f}x); "
                  f"{loaded['large_calls_done']} {what.split()[0]} calls answered during the "
                  "probes: each runs longer than they do, so one ran throughout")))
    for what, body in ((f"VAL_STORY_IMPLIED over {LARGEST_IMPLIED:,} companies (the cells "
                        "limit)", implied_call(LARGEST_IMPLIED)),
                       (f"VAL_STORY_SIMULATE of {companies} companies x {draws:,} draws (the "
                        "cost limit)", simulation_call(companies, draws))):
        ours, reference = peak_memory(body)
        rows.append(row(f"xlwings Server: {what}", ours,
                        f"one {LOAD_ROWS:,}-row VAL_PS call on the same server", reference,
                        "peak RSS < 1 GiB", under_a_gib,
                        note=memory_note(ours, f"{companies * draws:,} story valuations"
                                         if "SIMULATE" in what else
                                         f"{LARGEST_IMPLIED * 10:,} cells")))
    return rows

"""`xlfuncs serve` under bad requests and heavy calls (issue 11), against a real server
subprocess on loopback: a 4xx with its reason for every malformed call (and a fuzzer over
the request's JSON), 413 over the size limit before the body is read, small calls answered
while a large one runs, a bad license key refused in one line, SIGTERM answering the call
in progress. Every request loop is bounded in count and time and targets 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlfuncs.registry import CATALOG
from xlfuncs.server import plan
from xlfuncs.server_cost import VALUATIONS_ENV
from xlfuncs.server_requests import LIMIT_ENV
from xlfuncs.story.model import LABELS, OUTPUTS
from xlfuncs.story.simulate import ARITY

from .test_server import HOST, running

LIMIT_MB = 2  # the fixture's XLFUNCS_MAX_REQUEST_MB: small, so the limit tests send little
MAX_VALUATIONS = 100_000  # and its cost limit: fuzzed simulations of 10**6 draws get 413
CALL = "/xlwings/custom-functions-call"
PAYLOAD = {"func_name": "val_ps", "args": [[[300]], [[2]]], "caller_address": "Sheet1!A1",
           "formula_name": "VAL_PS", "version": "0.37.8", "runtime": "1.4",
           "culture_info_name": "en-US", "date_format": "yyyy-mm-dd", "client": "Office.js"}
NUM = {"type": "Error", "errorType": "Num"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("requests")
    with running(tmp, environ={LIMIT_ENV: str(LIMIT_MB),
                               VALUATIONS_ENV: str(MAX_VALUATIONS)}) as (base, _):
        yield base, tmp / f"server-{base.rsplit(':', 1)[1]}.log"


@pytest.fixture(scope="module")
def server(served: tuple[str, Path]) -> str:
    return served[0]


def post(base: str, body: bytes, timeout: float = 60) -> tuple[int, str]:
    request = urllib.request.Request(f"{base}{CALL}", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def with_fields(**fields: Any) -> bytes:
    return json.dumps({**PAYLOAD, **fields}).encode()


def nested(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


MALFORMED = {
    "too few arguments": (with_fields(args=[[[300]]]), "VAL_PS takes 2 arguments"),
    "too many arguments": (with_fields(args=[[[1]], [[2]], [[3]]]), "got 3"),
    "unknown function": (with_fields(func_name="val_nope"), "no function named 'val_nope'"),
    "dunder name": (with_fields(func_name="__class__"), "no function named '__class__'"),
    "private name": (with_fields(func_name="_make_udf"), "no function named"),
    "Excel's name": (with_fields(func_name="VAL_PS"), "did you mean 'val_ps'"),
    "empty body": (b"", "empty body"),
    "blank body": (b"  \n", "empty body"),
    "args not a list": (with_fields(args="300, 2"), "args: expected a list"),
    "args an object": (with_fields(args={"a": 1}), "args: expected a list"),
    "nested 50 deep": (with_fields(args=[nested(50), [[2]]]), "nested too deep"),
    "nested 100,000 deep": (b'{"func_name":"val_ps","args":[' + b"[" * 100_000
                            + b"]" * 100_000 + b"]}", "nested too deeply"),
    "a cell that is an object": (with_fields(args=[[[{"a": 1}]], [[2]]]), "JSON object"),
    "an empty range": (with_fields(args=[[], [[2]]]), "empty range"),
    "a ragged range": (with_fields(args=[[[1, 2], [3]], [[2]]]), "rectangular"),
    "no func_name": (json.dumps({"args": []}).encode(), "func_name: expected"),
    "func_name a number": (with_fields(func_name=5), "func_name: expected"),
    "no runtime": (json.dumps({k: v for k, v in PAYLOAD.items() if k != "runtime"}).encode(),
                   "runtime: expected text"),
    "date_format a number": (with_fields(date_format=1), "date_format: expected text"),
    "a JSON list": (b"[1, 2]", "must be a JSON object"),
    "not JSON": (b"{func_name: val_ps}", "not valid JSON"),
    "not UTF-8": (b'{"func_name": "\xff"}', "not valid JSON"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_call_gets_400_with_its_reason(server: str, case: str) -> None:
    body, reason = MALFORMED[case]
    status, text = post(server, body)
    assert (status, reason in text) == (400, True), (case, status, text)


def test_an_integer_too_long_for_python_is_its_own_cells_num_error(server: str) -> None:
    """Python's JSON parser refuses integers over 4,300 digits (the whole body failed);
    10**320 parses. Either is beyond a double: #NUM! for that cell, the others answered."""
    digits = b"9" * 5000
    body = (b'{"func_name":"val_ps","args":[[[' + digits + b"],[300],[-" + digits
            + b'],[' + b"9" * 320 + b']],[[2],[2],[2],[2]]],"version":"0.37.8",'
            b'"runtime":"1.4","client":"Office.js"}')
    status, text = post(server, body)
    assert status == 200, text
    assert json.loads(text)["result"] == [[NUM], [150.0], [NUM], [NUM]]


def raw_exchange(base: str, head: bytes, chunks: Iterable[bytes] = ()) -> str:
    """Send a request by hand; the status line and body of the answer."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed while we were still sending
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < 100:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer.decode(errors="replace")


def test_a_declared_size_over_the_limit_gets_413_before_the_body_is_sent(server: str) -> None:
    started = time.monotonic()
    answer = raw_exchange(server, f"POST {CALL} HTTP/1.1\r\nHost: {HOST}\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: 1000000000\r\n\r\n".encode())
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert f"the limit is {LIMIT_MB} MB" in answer and "--max-request-mb" in answer
    assert time.monotonic() - started < 10  # not waiting for a gigabyte


def test_a_streamed_body_over_the_limit_gets_413_as_it_passes_it(server: str) -> None:
    chunk = b"[1.5]," * 50_000  # 300 KB a chunk: 7 of them pass 2 MB
    chunks = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40))
    answer = raw_exchange(server, f"POST {CALL} HTTP/1.1\r\nHost: {HOST}\r\n"
                          "Content-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n".encode(), chunks)
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert f"the limit is {LIMIT_MB} MB" in answer


def test_more_cells_than_the_limit_allows_gets_413_before_parsing(server: str) -> None:
    cells = LIMIT_MB * 10**6 // 12 + 1000  # "[1]," is 4 bytes: under 2 MB, too many cells
    status, text = post(server, with_fields(args=[[[1]] * cells, [[2]]]))
    assert status == 413 and f"{LIMIT_MB * 10**6 // 12:,} cells" in text, text[:300]


def big_call(rows: int) -> tuple[bytes, list[list[float]]]:
    caps = [[float(i + 1)] for i in range(rows)]
    revenue = [[float(2 + i % 7)] for i in range(rows)]
    expected = [[c[0] / r[0]] for c, r in zip(caps, revenue, strict=True)]
    return with_fields(args=[caps, revenue]), expected


def wait_for(log: Path, text: str, after: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace")[after:]:
        assert time.monotonic() < deadline, f"{text!r} not in the server log"
        time.sleep(0.05)


def test_single_cell_calls_are_answered_while_a_large_call_runs(
        served: tuple[str, Path]) -> None:
    base, log = served
    body, expected = big_call(60_000)  # ~1.5 MB, 120,000 cells: seconds of work
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = len(log.read_text(errors="replace"))
        big: Future[tuple[int, str]] = pool.submit(post, base, body, 120)
        wait_for(log, 'Function "val_ps" called', start)
        answered = []
        for cap in range(1, 6):
            sent = time.monotonic()
            status, text = post(base, with_fields(args=[[[cap * 10.0]], [[2.0]]]), timeout=30)
            answered.append((status, json.loads(text)["result"], time.monotonic() - sent))
        still_running = not big.done()
        status, text = big.result(timeout=120)
    assert status == 200 and json.loads(text)["result"] == expected
    assert [a[:2] for a in answered] == [(200, [[cap * 5.0]]) for cap in range(1, 6)]
    assert still_running, "the single-cell calls waited for the large one"
    assert max(a[2] for a in answered) < 2.0, answered


def test_large_calls_waiting_past_four_limits_get_503_busy_the_rest_are_answered(
        served: tuple[str, Path]) -> None:
    """The bodies queued for the large-call process are bounded (4 x 2 MB here): one slow
    1.5 MB call, then 0.6 MB calls (a long formula_name: quick to answer) behind it."""
    base, log = served
    body, expected = big_call(60_000)
    padded = with_fields(formula_name="x" * 600_000)
    with ThreadPoolExecutor(max_workers=16) as pool:
        start = len(log.read_text(errors="replace"))
        big = pool.submit(post, base, body, 120)
        wait_for(log, 'Function "val_ps" called', start)
        queued = list(pool.map(lambda _: post(base, padded, 120), range(14), timeout=120))
        status, text = big.result(timeout=120)
    assert status == 200 and json.loads(text)["result"] == expected
    busy = [text for status, text in queued if status == 503]
    assert sorted({status for status, _ in queued}) == [200, 503], queued
    assert "busy with other large calls" in busy[0]
    assert all(json.loads(text)["result"] == [[150.0]] for status, text in queued
               if status == 200)


def test_the_limit_comes_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    license_only = {"XLWINGS_LICENSE_KEY": "noncommercial"}
    assert plan(project=tmp_path, environ=license_only).env[LIMIT_ENV] == "16"
    from_env = plan(project=tmp_path, environ={**license_only, LIMIT_ENV: "40"})
    assert from_env.env[LIMIT_ENV] == "40"
    flag = plan(project=tmp_path, environ={**license_only, LIMIT_ENV: "40"},
                max_request_mb=3.5)
    assert flag.env[LIMIT_ENV] == "3.5"
    for bad in ({"max_request_mb": 0.0}, {"environ": {**license_only, LIMIT_ENV: "lots"}}):
        with pytest.raises(Exception, match="MB"):
            plan(project=tmp_path, **{"environ": license_only, **bad})  # type: ignore[arg-type]


def test_a_bad_limit_flag_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial"}
    result = subprocess.run([sys.executable, "-m", "xlfuncs.cli", "serve", "--max-request-mb",
                             "-1", "--project", str(tmp_path)], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (
        2, "--max-request-mb must be a positive number of MB, e.g. 16\n")


def test_a_bad_license_key_is_refused_in_one_line_before_serving(tmp_path: Path) -> None:
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "not-a-key"}
    result = subprocess.run([sys.executable, "-m", "xlfuncs.cli", "serve", "--port", "1",
                             "--project", str(tmp_path)], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Invalid xlwings license key" in result.stderr
    assert "XLWINGS_LICENSE_KEY=noncommercial" in result.stderr


def test_sigterm_answers_the_call_in_progress_then_exits_cleanly(tmp_path: Path) -> None:
    body, expected = big_call(60_000)
    with running(tmp_path) as (base, process):
        log = tmp_path / f"server-{base.rsplit(':', 1)[1]}.log"
        with ThreadPoolExecutor(max_workers=1) as pool:
            big = pool.submit(post, base, body, 120)
            wait_for(log, 'Function "val_ps" called', 0)
            os.killpg(process.pid, signal.SIGTERM)  # as systemd does: the whole group
            status, text = big.result(timeout=120)
        # uvicorn re-raises the signal after its graceful shutdown: "killed by SIGTERM",
        # which systemd counts as a clean stop
        assert process.wait(timeout=60) == -signal.SIGTERM
        said = log.read_text(errors="replace")
    assert status == 200 and json.loads(text)["result"] == expected
    assert "Finished server process" in said and "Traceback" not in said, said[-2000:]
    with pytest.raises(OSError):  # and it is gone
        socket.create_connection((HOST, int(base.rsplit(":", 1)[1])), timeout=2).close()


BROKEN = """
import asyncio, json, logging, sys
import httpx
import xlwings as xw
from xlfuncs import server_app

@xw.func
def val_broken(x):
    return {1: 2}[x]  # a KeyError: a bug, not the request's fault

server_app.xlwings_router.custom_functions.val_broken = val_broken

async def main():
    transport = httpx.ASGITransport(app=server_app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = {**json.loads(sys.argv[1]), "func_name": "val_broken", "args": [[[3]]]}
        response = await client.post("/xlwings/custom-functions-call", json=body)
        print(response.status_code, response.text)

asyncio.run(main())
"""


def test_a_bug_of_ours_is_a_500_that_quotes_a_reference_the_log_explains(
        tmp_path: Path) -> None:
    env = {**os.environ, **plan(project=tmp_path, environ={
        "XLWINGS_LICENSE_KEY": "noncommercial"}).env}
    result = subprocess.run([sys.executable, "-c", BROKEN, json.dumps(PAYLOAD)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    status, _, reply = result.stdout.strip().partition(" ")
    assert status == "500", result.stdout + result.stderr[-2000:]
    reference = reply.split("reference ")[1].split(")")[0]
    assert "KeyError" in reply and "bug" in reply
    log = result.stderr
    assert f"internal error {reference}" in log
    assert "'val_broken'(1x1) from 'Sheet1!A1'" in log, log[-3000:]
    assert "Traceback" in log and "in val_broken" in log and "KeyError: 3" in log


# ---- the fuzzer: hypothesis over the request's JSON -------------------------------------

NAMES = [e.python_name for e in CATALOG]
JSON_SCALARS = (st.none() | st.booleans() | st.integers(-10**400, 10**400)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                        max_leaves=12)
CELLS = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.integers(-10**400, 10**400)
         | st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e6, 1e6)
         | st.sampled_from(["", "abc", "12", "2025-01-01", "revenue", "growth_next", "n/a",
                           "#DIV/0!", "Zhipu", "cost_of_capital"]))


@st.composite
def ranges(draw: st.DrawFn) -> Any:
    rows, columns = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    grid = [[draw(CELLS) for _ in range(columns)] for _ in range(rows)]
    return draw(st.sampled_from([grid, grid[0], grid[0][0]]))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    entry = draw(st.sampled_from(CATALOG))
    count = draw(st.integers(max(0, len(entry.params) - 2), len(entry.params) + 1))
    args: Any = [draw(ranges() | ANY_JSON if draw(st.integers(0, 9)) == 0 else ranges())
                 for _ in range(count)]
    body: dict[str, Any] = {**PAYLOAD, "func_name": entry.python_name, "args": args,
                            "formula_name": entry.name}
    for key in draw(st.lists(st.sampled_from(sorted(PAYLOAD)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del body[key]
        else:
            body[key] = draw(ANY_JSON | st.sampled_from([*NAMES, "__class__", "_entry"]))
    return body


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_fuzzed_calls_get_an_answer_or_a_4xx_with_a_reason_never_a_5xx(
        server: str, request: dict[str, Any]) -> None:
    status, text = post(server, json.dumps(request).encode(), timeout=30)
    assert status == 200 or (400 <= status < 500 and text.strip()), (status, text[:300])


# ---- the story functions' arguments, fuzzed ---------------------------------------------

STORY_ENTRIES = [e for e in CATALOG if e.name.startswith("VAL_STORY")]
REQUIRED_LABELS, OPTIONAL_LABELS = list(LABELS[:10]), list(LABELS[10:])
ODD_LABELS = st.sampled_from(["Growth 2-5", "REVENUE", "company", "", None, "moat",
                              "revenue", 5, True])
LABEL_CELLS = st.sampled_from(LABELS) | ODD_LABELS
# numbers a story takes (rates, years, amounts), with now and then a cell of any kind
STORY_CELLS = st.floats(-0.5, 3) | st.integers(1, 10) | st.sampled_from([100.0, 1e9]) | CELLS
DRAWS = st.sampled_from([None, 1, 100, 2_000, 10_000, 10**6, 10**6 + 1, 0, -1, 2.5, "abc",
                         1e300, True, 10**400, ""])


def sometimes(draw: st.DrawFn, one_in: int) -> bool:
    return draw(st.integers(1, one_in)) == 1


@st.composite
def story_ranges(draw: st.DrawFn) -> Any:
    """Every required label (now and then one missing, an odd label or one twice) and
    optional ones, down the first column or along the first row; 1-3 companies."""
    labels: list[Any] = draw(st.permutations(REQUIRED_LABELS))
    labels += draw(st.lists(st.sampled_from(OPTIONAL_LABELS), max_size=4, unique=True))
    if sometimes(draw, 4):
        labels[draw(st.integers(0, len(labels) - 1))] = draw(ODD_LABELS)
    companies = 0 if sometimes(draw, 10) else draw(st.integers(1, 3))
    grid = [[label, *(draw(STORY_CELLS) for _ in range(companies))] for label in labels]
    if draw(st.booleans()):
        grid = [list(line) for line in zip(*grid, strict=True)]
    return grid


@st.composite
def distribution_ranges(draw: st.DrawFn) -> Any:
    """Drivers with a known distribution and its parameters, or now and then not."""
    rows = []
    for label in draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=3,
                               unique=True)):
        name = draw(st.sampled_from(list(ARITY)))
        parameters = sorted(draw(st.floats(0, 1)) for _ in range(ARITY[name]))
        if sometimes(draw, 4):
            label, name = draw(LABEL_CELLS), draw(st.sampled_from([name, "beta", "", None]))
            parameters = [draw(STORY_CELLS) for _ in range(draw(st.integers(0, 4)))]
        rows.append([label, name, *parameters])
    width = max(len(row) for row in rows)
    return [row + [None] * (width - len(row)) for row in rows]


@st.composite
def story_requests(draw: st.DrawFn) -> dict[str, Any]:
    entry = draw(st.sampled_from(STORY_ENTRIES))
    by_name = {
        "story": story_ranges(), "result": st.sampled_from([*OUTPUTS, "value", "", None, 2]),
        "target": STORY_CELLS | ranges(), "driver": LABEL_CELLS, "low": st.none() | STORY_CELLS,
        "high": st.none() | STORY_CELLS,
        "distributions": distribution_ranges(), "draws": DRAWS, "seed": STORY_CELLS,
        "price": STORY_CELLS}
    count = draw(st.integers(sum(not p.optional for p in entry.params), len(entry.params)))
    args = [draw(by_name[p.name]) for p in entry.params[:count]]
    return {**PAYLOAD, "func_name": entry.python_name, "formula_name": entry.name,
            "args": [a if isinstance(a, list) else [[a]] for a in args]}


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(request=story_requests())
def test_fuzzed_story_calls_get_an_answer_or_a_4xx_with_a_reason_never_a_5xx(
        server: str, request: dict[str, Any]) -> None:
    """Story ranges, distributions, draws (up to 10**400), targets and brackets: 200, or a
    4xx that says why (413 past the fixture's cost limit); never a 5xx, never a hang."""
    status, text = post(server, json.dumps(request).encode(), timeout=60)
    assert status == 200 or (400 <= status < 500 and text.strip()), (status, text[:300])
    assert status != 413 or "story valuations" in text or "request too large" in text

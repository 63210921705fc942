"""xlwings Server, for real: `xlfuncs serve` as a subprocess on a free loopback port, spoken
to over HTTP the way Excel's Office.js client speaks to it. Every request loop here is
bounded in count and time and targets 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xlwings as xw

from xlfuncs.registry import CATALOG
from xlfuncs.server import LICENSE_HELP, plan

from .test_udfs import ARTICLE_CALLS

if importlib.util.find_spec("xlwings_server") is None:
    if os.environ.get("CI") == "true":
        pytest.fail('CI needs xlwings Server: pip install -e ".[test]"', pytrace=False)
    pytest.skip('xlwings Server is not installed: pip install "xlfuncs[server]"',
                allow_module_level=True)

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(tmp: Path, workers: int = 1, certs: Path | None = None,
            options: Sequence[str] = (), environ: dict[str, str] | None = None,
            ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", **(environ or {})}
    log = (tmp / f"server-{port}.log").open("wb")
    extra = [*(["--certs", str(certs)] if certs else []), *options]
    process = subprocess.Popen(
        [sys.executable, "-m", "xlfuncs.cli", "serve", "--port", str(port), "--workers",
         str(workers), "--project", str(tmp / "project"), *extra],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"{'https' if certs else 'http'}://{HOST}:{port}"
    context = (ssl.create_default_context(cafile=str(next(certs.glob("*+2.pem"))))
               if certs else None)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError((tmp / f"server-{port}.log").read_text()[-3000:])
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/xlwings/custom-functions-meta", timeout=2,
                                       context=context)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("xlfuncs serve did not answer within a minute")
            time.sleep(0.3)
        yield base, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(tmp_path_factory.mktemp("server")) as (base, _):
        yield base


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


def call(base: str, name: str, *args: object) -> tuple[int, object]:
    """POST /xlwings/custom-functions-call as Office.js does (every argument 2-D)."""
    payload = {
        "func_name": name.lower(),
        "args": [a if isinstance(a, list) else [[a]] for a in args],
        "caller_address": "Sheet1!A1", "formula_name": name.upper(),
        "version": xw.__version__, "runtime": "1.4", "culture_info_name": "en-US",
        "date_format": "yyyy-mm-dd", "client": "Office.js",
    }
    request = urllib.request.Request(f"{base}/xlwings/custom-functions-call",
                                     data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())["result"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_manifest_names_the_xlfuncs_namespace(server: str) -> None:
    status, manifest = get(f"{server}/manifest")
    assert status == 200 and "<OfficeApp" in manifest
    assert 'DefaultValue="XLFUNCS"' in manifest
    assert "custom-functions-meta" in manifest


def test_metadata_lists_exactly_the_catalog_with_its_docs(server: str) -> None:
    status, body = get(f"{server}/xlwings/custom-functions-meta")
    meta = json.loads(body)
    by_id = {f["id"]: f for f in meta["functions"]}
    assert status == 200 and set(by_id) == {e.name for e in CATALOG}  # no examples
    for entry in CATALOG:
        assert by_id[entry.name]["description"].startswith(entry.summary)
        assert [p["description"] for p in by_id[entry.name]["parameters"]] == [
            p.doc for p in entry.params]
    status, code = get(f"{server}/xlwings/custom-functions-code")
    assert status == 200
    for entry in CATALOG:
        assert f'CustomFunctions.associate("{entry.name}"' in code


def test_every_function_answers_over_http(server: str) -> None:
    for name, (args, expected) in ARTICLE_CALLS.items():
        status, result = call(server, name, *args)
        assert status == 200, (name, result)
        assert result[0][0] == expected, name  # type: ignore[index]


def test_val_story_values_a_table_of_stories_over_http(server: str) -> None:
    from .test_story import STORY_A, STORY_B, worked_a, worked_b

    labels = list(STORY_A)
    story = [[label, STORY_A[label], STORY_B.get(label)] for label in labels]
    status, result = call(server, "VAL_STORY", story)
    assert status == 200, result
    assert result == [[pytest.approx(worked_a(), rel=1e-12),
                       pytest.approx(worked_b(), rel=1e-12)]]
    status, message = call(server, "VAL_STORY", [["moat", 1]])
    assert status == 400 and "no story labels" in str(message)


def test_ranges_and_bad_input(server: str) -> None:
    status, result = call(server, "VAL_PS", [[300], [300], [None]], [[2], [0], [1]])
    assert status == 200
    assert result == [[150.0], [{"type": "Error", "errorType": "Div0"}], [""]]
    status, message = call(server, "VAL_PS", "abc", 2)
    assert status == 400  # not in xlwings Server's retry codes (5xx): no retry storm
    assert "market_cap: expected a number" in str(message)
    status, message = call(server, "VAL_PS", [[1], [2], [3]], [[1], [2]])
    assert status == 400 and "different shapes" in str(message)
    assert call(server, "VAL_PS", 10, 5) == (200, [[2.0]])  # still serving


def test_two_hundred_concurrent_calls_all_right(server: str) -> None:
    jobs = [(i, float(i + 1), float(1 + i % 9)) for i in range(200)]

    def one(job: tuple[int, float, float]) -> tuple[int, int, object]:
        index, cap, revenue = job
        status, result = call(server, "VAL_PS", [[cap], [cap * 2]], revenue)
        return index, status, result

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(one, jobs, timeout=120))
    assert time.monotonic() - started < 120
    for (index, cap, revenue), (_, status, result) in zip(jobs, answers, strict=True):
        assert status == 200, (index, result)
        assert result == [[cap / revenue], [cap * 2 / revenue]], index


def worker_cpu_ticks(master: int) -> dict[int, int]:
    """utime+stime of each child of a process (Linux /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ticks = {}
    for child in map(int, children):
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        ticks[child] = int(fields[11]) + int(fields[12])
    return ticks


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_two_workers_share_the_calls(tmp_path: Path) -> None:
    with running(tmp_path, workers=2) as (base, process):
        time.sleep(1.0)
        before = worker_cpu_ticks(process.pid)
        assert len(before) == 2, before
        jobs = list(range(200))
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(
                lambda i: call(base, "VAL_CAGR", [[float(i + 1)]] * 200, 2.0 * (i + 1), 1),
                jobs, timeout=120))
        assert all(status == 200 for status, _ in results)
        assert all(r[0][0] == 1.0 for _, r in results)  # type: ignore[index]
        after = worker_cpu_ticks(process.pid)
        busy = [pid for pid in before if after.get(pid, 0) - before[pid] > 0]
        assert len(busy) == 2, (before, after)


def test_refuses_to_start_without_a_license_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    result = subprocess.run([sys.executable, "-m", "xlfuncs.cli", "serve", "--project",
                             str(tmp_path)], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert "XLWINGS_LICENSE_KEY=noncommercial" in result.stderr
    assert "XLWINGS_LICENSE_KEY=noncommercial" in LICENSE_HELP


def test_loopback_by_default_and_tls_when_asked(tmp_path: Path) -> None:
    env = {"XLWINGS_LICENSE_KEY": "noncommercial"}
    default = plan(project=tmp_path, environ=env)
    assert default.argv[default.argv.index("--host") + 1] == "127.0.0.1"
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "localhost+2.pem").write_text("cert")
    (certs / "localhost+2-key.pem").write_text("key")
    tls = plan(port=8443, certs=certs, project=tmp_path, environ=env)
    assert tls.url == "https://localhost:8443"
    assert "--ssl-certfile" in tls.argv and str(certs / "localhost+2.pem") in tls.argv
    scaled = plan(workers=3, certs=certs, project=tmp_path, environ=env)
    assert "gunicorn" in scaled.argv and scaled.argv[scaled.argv.index("--workers") + 1] == "3"
    assert "--certfile" in scaled.argv
    init = (tmp_path / "custom_functions" / "__init__.py").read_text()
    assert "from xlfuncs.udfs import *" in init


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_with_local_certificates(tmp_path: Path) -> None:
    """--certs DIR with mkcert-style names serves HTTPS that a client trusting the
    certificate accepts (a self-signed one stands in for mkcert's here)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
                    "-keyout", str(certs / "localhost+2-key.pem"),
                    "-out", str(certs / "localhost+2.pem")], check=True, capture_output=True)
    with running(tmp_path, certs=certs) as (base, _):
        context = ssl.create_default_context(cafile=str(certs / "localhost+2.pem"))
        with urllib.request.urlopen(f"{base}/manifest", timeout=30, context=context) as r:
            manifest = r.read().decode()
        assert base.startswith("https://") and "https://127.0.0.1" in manifest
        with pytest.raises(urllib.error.URLError):  # an untrusting client refuses it
            urllib.request.urlopen(f"{base}/manifest", timeout=30)

"""``xlfuncs serve``: the Excel functions of :mod:`xlfuncs.udfs` through xlwings Server.

xlwings Server (the ``xlwings-server`` package, ``pip install "xlfuncs[server]"``) serves
an Office.js add-in to Excel on Windows, Mac and the web. It loads the custom functions
of a project folder; ``xlfuncs serve`` writes a minimal one whose ``custom_functions``
package re-exports ``xlfuncs.udfs`` (nothing else: the examples of xlwings Server stay
off) and starts the server on loopback, under uvicorn, or gunicorn with uvicorn workers
for ``--workers`` above 1. The app it runs is :mod:`xlfuncs.server_app`: xlwings Server's
behind a guard (size and cost limits, 400 with the reason for a malformed call, large
calls off the event loop, each within a time limit).

xlwings Server is dual-licensed: ``XLWINGS_LICENSE_KEY=noncommercial`` for non-commercial
use (PolyForm Noncommercial), a paid key otherwise. ``xlfuncs serve`` will not start
without the setting.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .server_cost import VALUATIONS_ENV, max_valuations
from .server_requests import LIMIT_ENV, SECONDS_ENV, call_seconds, limit_mb

NAMESPACE = "XLFUNCS"
# xlfuncs' own add-in ids (Office identifies an add-in by its manifest id; xlwings
# Server's defaults are shared by every project that keeps them)
MANIFEST_IDS = {"dev": "6b0e8f3c-5a51-4f0e-9a3e-2c7d1f4b8e01",
                "prod": "b3f1c2d4-7e8a-4b9c-a1d2-3e4f5a6b7c80"}
APP = "xlfuncs.server_app:app"
LICENSE_HELP = """\
xlfuncs serve: XLWINGS_LICENSE_KEY is not set.
xlwings Server is dual-licensed. For non-commercial use (PolyForm Noncommercial 1.0.0):
    export XLWINGS_LICENSE_KEY=noncommercial
For commercial use, buy a key (https://www.xlwings.org/pricing) and set it instead."""
INSTALL_HELP = 'xlfuncs serve needs xlwings Server: pip install "xlfuncs[server]"'
# xlwings validates the key when xlwings.pro is first imported, i.e. inside the server after
# "serving..." was printed; ask it first, in a child with the server's environment.
LICENSE_CHECK = """\
import xlwings
try:
    from xlwings.pro.utils import LicenseHandler
    LicenseHandler.validate_license("pro")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")
    raise SystemExit(1)
"""
# After SIGTERM the server answers the calls in progress, each stopped at the time limit
# at the latest; past the time limit and this margin, uvicorn (or gunicorn) stops waiting.
GRACEFUL_MARGIN_SECONDS = 30

CUSTOM_FUNCTIONS = '''\
"""The Excel functions of xlfuncs, as xlwings Server loads them.

Written by `xlfuncs serve`; edits are overwritten. Exactly xlfuncs.udfs, nothing else.
"""

from xlfuncs.udfs import *  # noqa: F403
'''
CUSTOM_SCRIPTS = '"""No custom scripts: xlfuncs serves functions only."""\n'


class ServeError(RuntimeError):
    """A reason not to start, said plainly."""


def default_project() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "xlfuncs" / "server"


def write_project(folder: Path) -> Path:
    """The xlwings Server project folder xlfuncs runs: custom_functions = xlfuncs.udfs."""
    for package, text in (("custom_functions", CUSTOM_FUNCTIONS),
                          ("custom_scripts", CUSTOM_SCRIPTS)):
        (folder / package).mkdir(parents=True, exist_ok=True)
        init = folder / package / "__init__.py"
        if not init.exists() or init.read_text(encoding="utf-8") != text:
            init.write_text(text, encoding="utf-8")
    return folder


def find_certs(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) from a folder of mkcert output (e.g. localhost+2.pem and
    localhost+2-key.pem) or cert.pem/key.pem."""
    keys = sorted(folder.glob("*-key.pem")) or sorted(folder.glob("key.pem"))
    if not keys:
        raise ServeError(f"no *-key.pem in {folder}: create them with mkcert (see README)")
    key = keys[0]
    name = key.name.removesuffix("-key.pem") + ".pem" if key.name != "key.pem" else "cert.pem"
    cert = folder / name
    if not cert.exists():
        raise ServeError(f"{key} has no certificate beside it ({cert.name})")
    return cert, key


@dataclass(frozen=True)
class Plan:
    """What ``xlfuncs serve`` will run."""

    argv: list[str]
    env: dict[str, str]
    url: str


@dataclass(frozen=True)
class Limits:
    """What one call may take: request MB, story valuations, seconds (None: the
    environment's setting, else the default)."""

    request_mb: float | None = None
    valuations: float | None = None
    call_seconds: float | None = None


def _limits(given: Limits, environ: dict[str, str]) -> dict[str, str]:
    """The limits as the environment the server reads them from; ServeError naming the
    flag or variable that is wrong."""
    chosen = {}
    for value, flag, variable, read, example in (
            (given.request_mb, "--max-request-mb", LIMIT_ENV, limit_mb, "MB, e.g. 16"),
            (given.valuations, "--max-valuations", VALUATIONS_ENV, max_valuations,
             "story valuations, e.g. 5000000"),
            (given.call_seconds, "--max-call-seconds", SECONDS_ENV, call_seconds,
             "seconds, e.g. 60")):
        if value is not None and not 0 < value < float("inf"):
            raise ServeError(f"{flag} must be a positive number of {example}")
        try:
            chosen[variable] = f"{read(environ) if value is None else value:.15g}"
        except ValueError as exc:
            raise ServeError(f"xlfuncs serve: {exc}") from None
    return chosen


def graceful_seconds(environ: dict[str, str]) -> int:
    """How long the server waits for the calls in progress after SIGTERM."""
    return int(float(environ[SECONDS_ENV])) + GRACEFUL_MARGIN_SECONDS


def plan(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
         certs: Path | None = None, project: Path | None = None,
         environ: dict[str, str] | None = None, max_request_mb: float | None = None,
         limits: Limits | None = None) -> Plan:
    """The command and environment that serve xlfuncs; raises ServeError with the reason
    when it cannot start. ``max_request_mb`` (else ``$XLFUNCS_MAX_REQUEST_MB``, else 16)
    is the largest request body the server reads; ``limits`` the rest of a call's."""
    environ = dict(os.environ if environ is None else environ)
    if not environ.get("XLWINGS_LICENSE_KEY"):
        raise ServeError(LICENSE_HELP)
    if importlib.util.find_spec("xlwings_server") is None:
        raise ServeError(INSTALL_HELP)
    if workers < 1:
        raise ServeError("--workers must be 1 or more")
    limits = limits or Limits()
    chosen_limits = _limits(Limits(max_request_mb if max_request_mb is not None
                                   else limits.request_mb, limits.valuations,
                                   limits.call_seconds), environ)
    folder = write_project((project or default_project()).resolve())
    env = {
        **environ,
        "XLWINGS_ON_SERVER": "true",  # before xlwings is imported: xw.func registers
        "XLWINGS_PROJECT_DIR": str(folder),
        "XLWINGS_FUNCTIONS_NAMESPACE": NAMESPACE,
        "XLWINGS_ENABLE_EXAMPLES": "false",
        "XLWINGS_ENABLE_HOTRELOAD": "false",
        "XLWINGS_PROJECT_NAME": "xlfuncs",
        "XLWINGS_ENVIRONMENT": environ.get("XLWINGS_ENVIRONMENT", "prod"),
        **chosen_limits,
        **{f"XLWINGS_MANIFEST_ID_{name.upper()}": uuid for name, uuid in MANIFEST_IDS.items()},
    }
    tls: list[str] = []
    scheme = "http"
    if certs is not None:
        cert, key = find_certs(certs)
        scheme = "https"
    if workers == 1:
        argv = [sys.executable, "-m", "uvicorn", APP, "--host", host, "--port", str(port),
                "--no-access-log", "--timeout-graceful-shutdown", str(graceful_seconds(env))]
        if certs is not None:
            tls = ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    else:
        if shutil.which("gunicorn") is None and importlib.util.find_spec("gunicorn") is None:
            raise ServeError("--workers needs gunicorn (Linux/macOS): pip install gunicorn")
        worker = ("uvicorn_worker.UvicornWorker" if importlib.util.find_spec("uvicorn_worker")
                  else "uvicorn.workers.UvicornWorker")
        argv = [sys.executable, "-m", "gunicorn", APP, "--worker-class", worker,
                "--workers", str(workers), "--bind", f"{host}:{port}",
                "--graceful-timeout", str(graceful_seconds(env))]
        if certs is not None:
            tls = ["--certfile", str(cert), "--keyfile", str(key)]
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    return Plan(argv + tls, env, f"{scheme}://{shown}:{port}")


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (another program has the port, or
    the address is not this machine's), or None. Asked before "serving" is printed; the
    server binds a moment later."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        return str(exc)
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # as uvicorn and gunicorn bind (on Windows it would share)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def license_problem(env: dict[str, str]) -> str | None:
    """Why xlwings would refuse the license setting in ``env``, in one line, or None."""
    result = subprocess.run([sys.executable, "-c", LICENSE_CHECK], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode == 0:
        return None
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[-1] if lines else f"the license check exited with {result.returncode}"


def next_steps(url: str) -> str:
    return f"""\
xlfuncs: serving the Excel functions at {url}
  manifest:  {url}/manifest
Next: sideload the manifest in Excel (Insert > Add-ins > My Add-ins > Upload My Add-in, or
see the README), then type =XLFUNCS.VAL_PS(B2, C2) in a cell. Office.js needs HTTPS:
run with --certs DIR (mkcert certificates) or behind a TLS proxy (docs/deploy.md).
Stop with Ctrl+C."""


def serve(host: str, port: int, workers: int, certs: Path | None,
          project: Path | None, limits: Limits | None = None) -> int:
    """Start the server in this process's place (exec); returns only on an error."""
    try:
        chosen = plan(host, port, workers, certs, project, limits=limits)
    except ServeError as exc:
        print(exc, file=sys.stderr)
        return 2
    busy = port_problem(host, port)
    if busy is not None:
        print(f"xlfuncs serve: cannot listen on {host} port {port} ({busy}); is another "
              "server running there? Stop it, or choose another port with --port",
              file=sys.stderr)
        return 2
    problem = license_problem(chosen.env)
    if problem is not None:
        print(f"xlfuncs serve: XLWINGS_LICENSE_KEY is not accepted by xlwings ({problem}); "
              "use XLWINGS_LICENSE_KEY=noncommercial for non-commercial use, or a valid "
              "paid key", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"xlfuncs: listening on {host}, not loopback: anyone who reaches this port "
              "can call the functions; put authentication in front (docs/deploy.md)",
              file=sys.stderr)
    print(next_steps(chosen.url), flush=True)
    os.execve(chosen.argv[0], chosen.argv, chosen.env)
    return 0  # pragma: no cover  (exec does not return)

"""The ``xlfuncs`` command: list the Excel functions, show or check a facts file, build the
workbook."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__
from .errors import XlfuncsError
from .registry import CATALOG


def catalog_rows() -> list[dict[str, object]]:
    """The catalog as plain data (for ``--format json`` and other tools)."""
    return [
        {
            "name": e.name,
            "python_name": e.python_name,
            "category": e.category,
            "signature": e.signature,
            "summary": e.summary,
            "parameters": [{"name": p.name, "description": p.doc, "optional": p.optional}
                           for p in e.params],
            "example": e.example,
            "example_result": e.example_result,
            "returns": e.returns,
            "native_formula": e.excel_body is not None,
        }
        for e in CATALOG
    ]


def _functions(args: argparse.Namespace) -> int:
    if args.format == "json":
        print(json.dumps(catalog_rows(), indent=2))
        return 0
    if args.format == "markdown":
        from .reference import functions_markdown

        print(functions_markdown(), end="")
        return 0
    width = max(len(e.signature) for e in CATALOG)
    category = None
    for e in CATALOG:
        if e.category != category:
            category = e.category
            print(f"\n{category}")
        print(f"  {e.signature:<{width}}  {e.summary}")
    return 0


def _facts(args: argparse.Namespace) -> int:
    from .data import COLUMNS, OPTIONAL_COLUMNS, load_facts

    facts = load_facts(args.data, False if args.no_article else None)
    if args.check:
        for layer in facts.attrs["layers"]:
            replaced = f", overriding {layer.overrides}" if layer.overrides else ""
            print(f"{layer.label}: {_facts_in_rows(layer.facts, layer.rows)}{replaced}, valid")
        if len(facts.attrs["layers"]) > 1:
            # after layering a name has one spelling, so (company, metric) pairs are facts
            count = len(facts.drop_duplicates(["company", "metric"]))
            print(f"layered: {_facts_in_rows(count, len(facts))}, "
                  f"{facts['company'].nunique()} companies")
        return 0
    with_text = facts.assign(**{c: facts[c].dt.strftime("%Y-%m-%d").fillna("")
                                for c in ("period_start", "period_end", "as_of")})
    print(with_text[[*COLUMNS, *OPTIONAL_COLUMNS]].to_csv(index=False), end="")
    return 0


def _facts_in_rows(facts: int, rows: int) -> str:
    """Facts counted as ``xlfuncs build`` counts them: a range's two rows are one fact."""
    return f"{facts} facts" + (f" in {rows} rows" if rows != facts else "")


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (so a save in progress removes its temporary file),
    then exit with one line. A BaseException, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Stopped` for the duration."""
    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (main() called from a thread)
        return
    previous = {signum: signal.signal(signum, _stop) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _build(args: argparse.Namespace) -> int:
    from .workbook import build, default_out

    live = sys.stderr.isatty()

    def progress(message: str) -> None:
        if live:  # a terminal: one line that updates in place
            print(f"\r\033[Kxlfuncs build: {message}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        with _stopped_by_signals():
            report = build(args.data, args.out or default_out(args.live), args.keep_inputs,
                           args.force, progress, reset_inputs=args.reset_inputs,
                           article=False if args.no_article else None, live=args.live)
    finally:
        if live:
            print("\r\033[K", end="", file=sys.stderr)
    seconds = time.perf_counter() - started
    status = "pass" if report.checks_ok is True else "FAIL"
    if report.backup is not None:
        print(f"copied the edited {report.path} to {report.backup}")
    through = "" if report.link is None else f" (through the link {report.link})"
    print(f"wrote {report.path}{through} ({report.size / 1024:,.0f} KiB): {report.companies:,} "
          f"companies, {report.facts:,} facts, checks {status}, {seconds:.2f} s")
    for line in report.carried:
        print(f"  kept input {line}")
    if report.carried_from is not None and report.carried:
        print(f"  (kept from the {report.carried_from} it replaces; --reset-inputs resets "
              "them to the defaults)")
    for line in report.not_carried:
        print(f"  not carried: {line}")
    if report.not_carried:
        print("  (the new build has the default for each input not carried)")
    if args.keep_inputs and not report.carried:
        print(f"  no input of {args.keep_inputs} differed from the defaults")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .server import Limits, serve

    return serve(args.host, args.port, args.workers, args.certs, args.project,
                 Limits(args.max_request_mb, args.max_valuations, args.max_call_seconds))


def _lite(args: argparse.Namespace) -> int:
    from .lite import write_lite

    for path in write_lite(args.out):
        print(f"wrote {path}")
    print("In Excel: Home > Add-ins, add xlwings Lite, open its editor; paste main.py into its "
          "main.py and requirements.txt into its requirements.txt (docs/lite.md).")
    return 0


def _data_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--data", action="append", metavar="FACTS.csv",
                         help="a facts CSV layered over the article's, fact by fact; give it "
                              "again for more layers, later ones winning (default: "
                              "$XLFUNCS_DATA)")
    command.add_argument("--no-article", action="store_true",
                         help="leave out the article's own facts: only the --data files")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlfuncs",
        description="Excel functions and a portable valuation workbook for AI companies.")
    parser.add_argument("--version", action="version", version=f"xlfuncs {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    functions = commands.add_parser("functions", help="list every Excel function")
    functions.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                           help="text for people (default), json for other tools, markdown "
                                "for docs/functions.md")
    functions.set_defaults(run=_functions)

    facts = commands.add_parser("facts", help="print (or --check) a facts CSV")
    _data_options(facts)
    facts.add_argument("--check", action="store_true", help="only validate and summarise")
    facts.set_defaults(run=_facts)

    build = commands.add_parser("build", help="write the valuation workbook")
    _data_options(build)
    build.add_argument("--out", help="where to write, a name ending in .xlsx (default: "
                                     "workbooks/llm_valuation.xlsx; with --live ROUTE, "
                                     "workbooks/llm_valuation_ROUTE.xlsx)")
    build.add_argument("--live", choices=("server", "lite", "classic"),
                       help="also write Live cells that call the add-in, named as this route "
                            "registers them (server: =XLFUNCS.VAL_PS; lite, classic: "
                            "=VAL_PS); without it the workbook calls no add-in function")
    carry = build.add_mutually_exclusive_group()
    carry.add_argument("--keep-inputs", metavar="OLD.xlsx",
                       help="carry the input cells a colleague changed in OLD.xlsx (OLD.xlsx "
                            "may be the --out workbook itself: it is copied to "
                            "NAME.backup.xlsx first)")
    carry.add_argument("--reset-inputs", action="store_true",
                       help="do not keep the inputs of the workbook being replaced")
    build.add_argument("--force", action="store_true",
                       help="overwrite a workbook that was edited since it was built")
    build.set_defaults(run=_build)

    server = commands.add_parser("serve", help="serve the functions with xlwings Server")
    server.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: loopback only)")
    server.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default: 8000)")
    server.add_argument("--workers", type=int, default=1,
                        help="processes (above 1: gunicorn with uvicorn workers)")
    server.add_argument("--certs", type=Path, metavar="DIR",
                        help="folder with mkcert certificates, for HTTPS")
    server.add_argument("--project", type=Path, metavar="DIR",
                        help="xlwings Server project folder to write and run "
                             "(default: ~/.cache/xlfuncs/server)")
    server.add_argument("--max-request-mb", type=float, metavar="MB",
                        help="largest request body read, in MB; larger calls get 413 "
                             "(default: $XLFUNCS_MAX_REQUEST_MB or 16, which allows "
                             "1,333,333 cells)")
    server.add_argument("--max-valuations", type=float, metavar="N",
                        help="largest cost of a call in story valuations (companies x draws "
                             "of VAL_STORY_SIMULATE, ...); costlier calls get 413 (default: "
                             "$XLFUNCS_MAX_VALUATIONS or 5,000,000)")
    server.add_argument("--max-call-seconds", type=float, metavar="S",
                        help="time limit of a call; a call running longer is stopped "
                             "(default: $XLFUNCS_MAX_CALL_SECONDS or 60)")
    server.set_defaults(run=_serve)

    lite = commands.add_parser("lite", help="write main.py and requirements.txt for "
                                            "xlwings Lite (main.py carries xlfuncs)")
    lite.add_argument("--out", type=Path, default=Path("xlwings-lite"),
                      help="folder to write into (default: ./xlwings-lite)")
    lite.set_defaults(run=_lite)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; whatever a user can cause ends in one ``xlfuncs: ...`` line and
    exit status 2 (a signal: 128 + its number), never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except XlfuncsError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # `xlfuncs functions | head`: the reader has all it wanted
        return _reader_gone()
    except OSError as exc:  # bad paths, full disks, read-only folders
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}")
    except MemoryError:
        return _fail("out of memory")
    except Stopped as exc:
        name = signal.Signals(exc.signum).name
        _fail(f"stopped by {name}; nothing half-written is left (any file being saved is "
              "either as it was or complete)")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _fail("stopped (Ctrl-C); nothing half-written is left")
        return 130


def _reader_gone() -> int:
    """Stop quietly, as Unix tools do when the command reading their output exits: no
    message, SIGPIPE's status. What is still buffered goes to the null device, or Python
    would report the broken pipe again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError):  # stdout may be no file (captured)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + getattr(signal, "SIGPIPE", 13)


def _fail(message: str) -> int:
    print(f"xlfuncs: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

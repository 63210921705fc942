"""The ``xlfuncs`` command: list the Excel functions, show or check a facts file, build the
workbook."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    width = max(len(e.signature) for e in CATALOG)
    category = None
    for e in CATALOG:
        if e.category != category:
            category = e.category
            print(f"\n{category}")
        print(f"  {e.signature:<{width}}  {e.summary}")
    return 0


def _facts(args: argparse.Namespace) -> int:
    from .data import load_facts

    facts = load_facts(args.data)
    if args.check:
        companies = facts["company"].nunique()
        print(f"{facts.attrs['path']}: {len(facts)} facts, {companies} companies, valid")
        return 0
    with_text = facts.assign(**{c: facts[c].dt.strftime("%Y-%m-%d").fillna("")
                                for c in ("period_start", "period_end", "as_of")})
    print(with_text.to_csv(index=False), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlfuncs",
        description="Excel functions and a portable valuation workbook for AI companies.")
    parser.add_argument("--version", action="version", version=f"xlfuncs {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    functions = commands.add_parser("functions", help="list every Excel function")
    functions.add_argument("--format", choices=("text", "json"), default="text")
    functions.set_defaults(run=_functions)

    facts = commands.add_parser("facts", help="print (or --check) a facts CSV")
    facts.add_argument("--data", help="facts CSV (default: $XLFUNCS_DATA or the article's)")
    facts.add_argument("--check", action="store_true", help="only validate and summarise")
    facts.set_defaults(run=_facts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except XlfuncsError as exc:
        print(f"xlfuncs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Mutation testing for xlfuncs: does the test suite fail when the code is wrong?

    python scripts/mutation.py                 # every module in pyproject's table
    python scripts/mutation.py xlfuncs/fx.py   # one module
    python scripts/mutation.py --jobs 2 --json mutation.json

Each mutant is one small, realistic change to one module: an arithmetic or comparison
operator swapped, a number moved by one, a boolean flipped, ``and``/``or`` and ``&``/``|``
exchanged, a unary minus or a ``not`` dropped, a short string (a code, a unit, a
qualifier) spoilt, and, inside Excel formula strings (the registry's f-strings), an
operator, comparison or digit changed. The module's own tests (``[tool.xlfuncs.mutation]``
in pyproject.toml) then run against the mutant; the mutant is *killed* when they fail
or hang. The byte-for-byte workbook test never counts as a kill: it detects change, not
error, and is deselected.

Why not mutmut, the usual tool: mutmut 3 mutates only undecorated functions, and here
the metrics are ``@metric``-decorated bodies whose guards are lambdas in the decorator
call, and the registry's formulas are module-level lambdas: on valuation.py it made 260
mutants, none in a metric body, a guard or a formula. mutmut 2 mutates those, but runs
the whole test command per mutant with no parallelism. This script uses the same kinds
of mutation on every line of a module and runs each mutant in a process forked from one
that has already imported the heavy libraries, so a mutant costs about a second.

Long strings (error reasons, docs) are not mutated: a reason is text for a person, and
its wording is not a number an analyst could get wrong.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
SHORT_STRING = 16  # strings up to this long are codes, units, qualifiers: mutated

BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"),
          ast.Div: ("/", "*"), ast.Pow: ("**", "*"), ast.FloorDiv: ("//", "/"),
          ast.Mod: ("%", "*"), ast.BitOr: ("|", "&"), ast.BitAnd: ("&", "|")}
COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="),
           ast.GtE: (">=", ">"), ast.Eq: ("==", "!="), ast.NotEq: ("!=", "==")}
# Inside an Excel formula's literal text
FORMULA_SWAPS = (("<=", "<"), (">=", ">"), ("<>", "="), ("<", "<="), (">", ">="),
                 ("=", "<>"), ("+", "-"), ("-", "+"), ("*", "/"), ("/", "*"), ("^", "*"))


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    start: int   # offsets into the module's text
    end: int
    before: str
    after: str

    def apply(self, text: str) -> str:
        return text[:self.start] + self.after + text[self.end:]

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line}: {self.before!r} -> {self.after!r}"


def _offsets(text: str) -> list[int]:
    starts, total = [0], 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _formula_literal_mutants(source: str, base: int) -> Iterator[tuple[int, int, str, str]]:
    """Operator mutants in the literal parts of a (formula-looking) string's source text,
    skipping what is inside {...} replacement fields."""
    depth, i = 0, 0
    while i < len(source):
        char = source[i]
        if char == "{":
            if source[i:i + 2] == "{{" and depth == 0:
                i += 2
                continue
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif depth == 0:
            for old, new in FORMULA_SWAPS:
                if source.startswith(old, i):
                    yield base + i, base + i + len(old), old, new
                    i += len(old) - 1
                    break
            else:
                if char.isdigit():
                    yield base + i, base + i + 1, char, str((int(char) + 1) % 10)
        i += 1


def _looks_like_formula(text: str, code_only: bool) -> bool:
    """Excel formula text: a function call or a leading '='; in the registry's lambdas
    (code_only) also a bare expression such as '{e}/{s}-1'. Elsewhere an operator in a
    string is prose ('P/S is not meaningful')."""
    if re.search(r"[A-Z]{2,}\(|^=", text):
        return True
    return code_only and bool(re.search(r"[<>=*/^+-]", text))


def _annotations(tree: ast.AST) -> set[int]:
    """Nodes inside type annotations: with ``from __future__ import annotations`` they are
    never evaluated, so their mutants are equivalent by construction."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        parts: list[ast.AST | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(node.returns)
        elif isinstance(node, ast.arg):
            parts.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == "Literal":  # a type alias's strings: types, not values
            parts.append(node.slice)
        for part in parts:
            if part is not None:
                inside.update(id(child) for child in ast.walk(part))
    return inside


def _length_assertions(tree: ast.AST) -> set[int]:
    """``strict=True`` of ``zip(...)``: an assertion that the zipped sequences have the same
    length (ruff's B905 asks for it on every zip), not a computation. Flipping it changes
    nothing unless the lengths differ, which a caller's input cannot make them do here:
    every zip in xlfuncs pairs sequences built one element per parameter, name or cell,
    or whose lengths were checked just before with a message (a facts file's row against
    its header, a carried column against the company names)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "zip":
            found.update(id(k.value) for k in node.keywords if k.arg == "strict")
    return found


def _in_code(tree: ast.AST) -> set[int]:
    """The nodes inside a function or lambda (for modules whose other text is data)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            inside.update(id(child) for child in ast.walk(node))
    return inside


def mutants(path: Path, relative: str, code_only: bool = False) -> list[Mutant]:
    """Every mutant of a module; ``code_only``: only inside functions and lambdas (the
    registry: its formulas are lambdas, the rest is names, docs and examples)."""
    text = path.read_text("utf-8")
    tree = ast.parse(text)
    lines = _offsets(text)
    skip = _docstrings(tree) | _annotations(tree) | _length_assertions(tree)
    code = _in_code(tree) if code_only else None
    found: list[Mutant] = []

    def offset(line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert within the line
        raw = text[lines[line - 1]:lines[line]].encode("utf-8")
        return lines[line - 1] + len(raw[:col].decode("utf-8"))

    def add(start: int, end: int, after: str) -> None:
        before = text[start:end]
        if before != after:
            line = text.count("\n", 0, start) + 1
            found.append(Mutant(relative, line, start, end, before, after))

    def between(a: ast.AST, b: ast.AST, old: str, new: str) -> None:
        lo = offset(a.end_lineno, a.end_col_offset)  # type: ignore[arg-type]
        hi = offset(b.lineno, b.col_offset)
        gap = text[lo:hi]
        index = _operator_index(gap, old)
        if index >= 0:
            add(lo + index, lo + index + len(old), new)

    for node in ast.walk(tree):
        if (code is not None and id(node) not in code) or id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            old, new = BINARY[type(node.op)]
            between(node.left, node.right, old, new)
        elif isinstance(node, ast.Compare):
            previous = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) in COMPARE:
                    between(previous, right, *COMPARE[type(op)])
                previous = right
        elif isinstance(node, ast.BoolOp):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for left, right in zip(node.values, node.values[1:], strict=False):
                between(left, right, old, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            start = offset(node.lineno, node.col_offset)
            inner = offset(node.operand.lineno, node.operand.col_offset)
            add(start, inner, "")
        elif isinstance(node, ast.Constant) and id(node) not in skip and hasattr(node, "lineno"):
            start = offset(node.lineno, node.col_offset)
            end = offset(node.end_lineno, node.end_col_offset)  # type: ignore[arg-type]
            value = node.value
            if isinstance(value, bool):
                add(start, end, str(not value))
            elif isinstance(value, int):
                add(start, end, str(value + 1))
            elif isinstance(value, float):
                add(start, end, repr(value + 1) if value else "1.0")
            elif isinstance(value, str) and _looks_like_formula(value, code_only):
                for lo, hi, _, new in _formula_literal_mutants(text[start:end], start):
                    add(lo, hi, new)
            elif isinstance(value, str) and len(value) <= SHORT_STRING:
                quote = text[start:end]
                add(start, end, quote[0] + "XX" + quote[1:-1] + "XX" + quote[-1]
                    if quote[:1] in "'\"" else quote)
        elif isinstance(node, ast.JoinedStr):
            start = offset(node.lineno, node.col_offset)
            end = offset(node.end_lineno, node.end_col_offset)  # type: ignore[arg-type]
            source = text[start:end]
            literal = re.sub(r"\{[^{}]*\}", "", source)
            if _looks_like_formula(literal, code_only):
                for lo, hi, _, new in _formula_literal_mutants(source, start):
                    add(lo, hi, new)
    # constants inside f-strings are reported at the f-string's position: drop overlaps
    unique = {(m.start, m.end, m.after): m for m in found}
    return sorted(unique.values(), key=lambda m: (m.start, m.after))


def _operator_index(gap: str, operator: str) -> int:
    """Where ``operator`` stands in the text between two operands (not inside a comment
    or a closing bracket's neighbour word)."""
    code = re.sub(r"#.*", lambda m: " " * len(m.group()), gap)
    if operator.isalpha():
        match = re.search(rf"\b{operator}\b", code)
        return match.start() if match else -1
    for match in re.finditer(re.escape(operator), code):
        before, after = code[match.start() - 1:match.start()], code[match.end():match.end() + 1]
        # '*' must not be half of '**', '<' not half of '<=', and so on
        if before + operator + after not in ("**", "***") and after not in ("=", "*", "/"):
            return match.start()
        if operator in ("**", "//", "<=", ">=", "==", "!="):
            return match.start()
    return -1


# ---- running -------------------------------------------------------------------------

def _prepare_parent() -> None:
    """Import what every test run needs, once, so that forks start warm (xlfuncs itself is
    imported fresh by each mutant from its own copy)."""
    # No bytecode cache: a mutant of the same size written in the same second as the code
    # before it would otherwise run the stale .pyc (Python checks size and mtime only).
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    os.environ["XLWINGS_ON_SERVER"] = "true"
    os.environ.setdefault("HYPOTHESIS_PROFILE", "default")
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import pytest  # noqa: F401
    import xlwings  # noqa: F401


def _run(workdir: Path, tests: list[str], deselect: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout' for the tests against the tree in ``workdir``."""
    pid = os.fork()
    if pid == 0:  # the child: a fresh import of xlfuncs from workdir
        try:
            os.chdir(workdir)
            sys.path.insert(0, str(workdir))
            for name in [m for m in sys.modules if m == "xlfuncs" or m.startswith(
                    ("xlfuncs.", "tests"))]:
                del sys.modules[name]
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            import pytest

            args = [*tests, "-x", "-q", "--no-header", "-p", "no:cacheprovider",
                    "-o", "addopts=", "--doctest-modules", "-W", "ignore",
                    "--hypothesis-seed=0", "--hypothesis-profile=mutation", "-m",
                    "not engines", *[f"--deselect={d}" for d in deselect]]
            code = pytest.main(args)
        except BaseException:
            code = 3
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return "survived" if code == 0 else "killed"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)


def _copy_tree(into: Path) -> None:
    shutil.copytree(ROOT / "xlfuncs", into / "xlfuncs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", into / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conftest.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, into / name)
    for folder in ("workbooks", "scripts", "docs", ".ci"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, into / folder)


def _pytest_verdicts(module: str, found: list[Mutant], original: str, tests: list[str],
                     deselect: list[str], workers: list[Path], timeout: float,
                     progress: bool) -> dict[Mutant, str]:
    """Each mutant against the module's tests, one fork per worker copy at a time."""
    results: dict[Mutant, str] = {}
    running: dict[int, tuple[Mutant, Path]] = {}
    queue = list(found)
    free = list(workers)
    while queue or running:
        while queue and free:
            mutant, worker = queue.pop(0), free.pop()
            (worker / module).write_text(mutant.apply(original), "utf-8")
            pid = os.fork()
            if pid == 0:
                outcome = _run(worker, [*tests, module], deselect, timeout)
                os._exit({"killed": 0, "survived": 1, "timeout": 2}[outcome])
            running[pid] = (mutant, worker)
        pid, status = os.wait()
        mutant, worker = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        results[mutant] = {0: "killed", 1: "survived", 2: "timeout"}.get(code, "killed")
        if results[mutant] == "survived":
            print(f"  survived: {mutant.label}", flush=True)
        (worker / module).write_text(original, "utf-8")
        free.append(worker)
        if progress:
            print(f"\r{module}: {len(results)}/{len(found)}", end="", file=sys.stderr,
                  flush=True)
    if progress:
        print(file=sys.stderr)
    return results


def run_module(module: str, tests: list[str], deselect: list[str], jobs: int,
               progress: bool, code_only: bool = False, formulas: bool = False,
               sample: int = 0, earlier: dict[str, object] | None = None) -> dict[str, object]:
    found = mutants(ROOT / module, module, code_only)
    if sample > 1:
        found = found[::sample]
    total = len(found)
    if earlier is not None:  # only what survived then; the rest stays killed
        total = int(earlier["mutants"])  # type: ignore[call-overload]
        labels = {s["label"] for s in earlier["survivors"]}  # type: ignore[attr-defined]
        found = [m for m in found if m.label in labels]
    original = (ROOT / module).read_text("utf-8")
    with tempfile.TemporaryDirectory(prefix="xlfuncs-mutation-") as scratch:
        workers = [Path(scratch) / f"w{i}" for i in range(jobs)]
        for worker in workers:
            _copy_tree(worker)
        started = time.monotonic()
        baseline = _run(workers[0], [*tests, module], deselect, timeout=900)
        seconds = time.monotonic() - started
        if baseline != "survived":
            raise SystemExit(f"{module}: the tests fail on the unmutated code ({baseline})")
        timeout = 10 * seconds + 10

        def by_tests(some: list[Mutant]) -> dict[Mutant, str]:
            return _pytest_verdicts(module, some, original, tests, deselect, workers,
                                    timeout, progress)

        if formulas:
            from mutation_formulas import run_formulas

            results = run_formulas(module, found, workers, original, by_tests)
        else:
            results = by_tests(found)
    survivors = [m for m in found if results[m] == "survived"]
    killed = total - len(survivors)
    return {"module": module, "mutants": total, "killed": killed,
            "score": round(100 * killed / total, 1) if total else 100.0,
            "baseline_seconds": round(seconds, 2),
            "seconds": round(time.monotonic() - started, 1),
            "survivors": [asdict(m) | {"label": m.label} for m in survivors]}


def main(argv: list[str] | None = None) -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["xlfuncs"][
        "mutation"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument("--sample", type=int, default=0,
                        help="only every N-th mutant (a quick look, not a score)")
    parser.add_argument("--retest", type=Path, metavar="RESULTS.json",
                        help="only the survivors of an earlier run (after new tests); "
                             "the score counts the earlier run's killed mutants as killed")
    args = parser.parse_args(argv)
    earlier = ({r["module"]: r for r in json.loads(args.retest.read_text()) if "mutants" in r}
               if args.retest else {})
    modules = args.modules or (list(earlier) if earlier else list(config["modules"]))
    code_only = set(config.get("code_only", []))
    formulas = set(config.get("formulas", []))
    if args.list:
        for module in modules:
            for mutant in mutants(ROOT / module, module, module in code_only):
                print(mutant.label)
        return 0
    _prepare_parent()
    report = []
    for module in modules:
        try:
            result = run_module(module, config["modules"][module],
                                config.get("deselect", []), args.jobs, sys.stderr.isatty(),
                                module in code_only, module in formulas, args.sample,
                                earlier.get(module))
        except SystemExit as refusal:  # its tests fail unmutated: say so, go on
            print(f"{module}: not run: {refusal}")
            report.append({"module": module, "error": str(refusal)})
            continue
        report.append(result)
        print(f"{module}: {result['killed']}/{result['mutants']} killed "
              f"({result['score']}%), {result['seconds']} s")
        if args.json:  # after each module, so a long run that is stopped keeps its results
            args.json.write_text(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

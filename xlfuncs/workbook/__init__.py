"""``xlfuncs build``: the shared valuation workbook, written with openpyxl.

>>> from xlfuncs.workbook import workbook_bytes
>>> workbook_bytes()[:2]
b'PK'
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.packaging.custom import StringProperty

from ..data import DataPaths, load_facts
from ..errors import XlfuncsError
from ..formula import lookup_tables
from .book import _PLACEHOLDER, Book, SaveError, atomic_write
from .carry import CHOSEN_INPUTS, carry_inputs, chosen_record, recorded_inputs
from .model import Model, build_model
from .routes import ROUTES, Route
from .safety import UnsafeWorkbookError, check_zip, edited_since_built
from .sheets import (
    Plan,
    add_intrinsic_columns,
    checks_status,
    dcf_checks,
    input_check_groups,
    input_checks,
    layout_facts,
    plan_burn,
    plan_checks,
    plan_dcf,
    plan_simulation,
    plan_story_inputs,
    plan_valuation,
    write_about,
    write_card,
    write_charts,
    write_checks,
    write_dcf,
    write_facts,
    write_functions,
    write_inputs,
    write_scenarios,
    write_simulation,
    write_table_sheet,
    write_year_series,
)
from .sheets.inputs import workbook_tables
from .story_carry import STORY

DEFAULT_OUT = Path("workbooks") / "llm_valuation.xlsx"


def default_out(live: str | None = None) -> Path:
    """Where a build goes unless told: a route's build beside the shared workbook."""
    return DEFAULT_OUT if live is None else DEFAULT_OUT.with_name(f"llm_valuation_{live}.xlsx")
SHEETS = ("About", "Inputs", "Facts", "Valuation", "DCF", "Simulation",
          "Burn", "Scenarios", "Company card",
          "Charts", "Checks", "Functions")


class TargetEditedError(XlfuncsError):
    """The workbook at the target was changed since xlfuncs built it."""


class OutputPathError(XlfuncsError):
    """The target is a folder, a device, or lies under a file."""


@dataclass
class BuildReport:
    path: Path
    companies: int
    facts: int
    checks_ok: Any
    carried: list[str] = field(default_factory=list)
    size: int = 0
    not_carried: list[str] = field(default_factory=list)
    carried_from: Path | None = None   # the target itself, when its inputs were kept
    backup: Path | None = None         # where the edited target was copied first
    link: Path | None = None           # the --out given, when it is a link to ``path``


def _no_progress(message: str) -> None:
    pass


def workbook_bytes(data: DataPaths = None, keep_inputs: str | Path | None = None,
                   progress: Callable[[str], None] = _no_progress,
                   article: bool | None = None, live: str | None = None) -> bytes:
    """The workbook file's bytes (see :func:`build`)."""
    sources = [] if keep_inputs is None else [(Path(keep_inputs), False)]
    return _render(data, sources, progress, article, live)[0]


def _render(data: DataPaths, sources: list[tuple[Path, bool]],
            progress: Callable[[str], None],
            article: bool | None = None, live: str | None = None) -> tuple[bytes, Model, Any]:
    # the formulas look rates and units up in the Inputs sheet's tables, by name
    with lookup_tables(workbook_tables()):
        return _render_sheets(data, sources, progress, article, live)


def _render_sheets(data: DataPaths, sources: list[tuple[Path, bool]],
                   progress: Callable[[str], None], article: bool | None,
                   live: str | None) -> tuple[bytes, Model, Any]:
    facts = load_facts(data, article)
    model = build_model(facts)
    for old, recorded_only in sources:
        carry_inputs(model, old, recorded_only)
    progress(f"{len(model.companies):,} companies, {len(model.facts):,} facts")
    in_bn = layout_facts(model)
    china = _china_market(model)
    valuation = plan_valuation(model, china)
    plan = Plan(model, facts.attrs["layers"], live=_route(live))
    plan.story = plan_story_inputs(model, valuation)
    _no_story_block(model, plan.story)
    plan.dcf = plan_dcf(plan, plan.story, valuation)
    add_intrinsic_columns(valuation, model, plan.dcf)
    burn = plan_burn(model, valuation)
    plan.checks = (input_checks(input_check_groups(plan)) + plan_checks(model, valuation)
                   + dcf_checks(plan.dcf, model))
    plan.checks_ok = checks_status(plan.checks)
    book = Book()
    record = chosen_record(model)
    if _PLACEHOLDER not in record:  # a company named with 64 zeros: no record (see carry)
        book.wb.custom_doc_props.append(StringProperty(name=CHOSEN_INPUTS, value=record))
    write_about(book, plan)
    write_inputs(book, plan, china)
    write_facts(book, plan, in_bn, progress)
    write_table_sheet(book, "Valuation", "Per company: market value in three currencies, "
                      "revenue run-rate, multiples and reverse valuation. HK$ amounts convert "
                      "at the Inputs FX rates.", valuation, plan, progress)
    write_dcf(book, plan)
    write_simulation(book, plan, plan_simulation(plan))
    burn_sheet = write_table_sheet(
        # one printed line: the note's end was cut at the first page's edge when longer
        book, "Burn", "Cash burn from reported cumulative losses (loss-based: includes "
        "non-cash items), runway from the Inputs cash, compute spend; figures by year below. "
        "Loss per unit of revenue is #N/A until a loss and a revenue over the same days are "
        "given (the article has none).",
        burn, plan, progress)
    write_year_series(burn_sheet, model)
    write_scenarios(book, plan, valuation)
    write_card(book, plan, {"Valuation": valuation, "Burn": burn})
    write_charts(book, plan, valuation, burn)
    write_checks(book, plan)
    write_functions(book, plan)
    progress("saving")
    return book.to_bytes(), model, plan.checks_ok


def _no_story_block(model: Model, story: Any) -> None:
    """Story inputs carried for a company this build gives no DCF block: said, not lost
    silently (a block needs a market value and a revenue run-rate; at most 25)."""
    valued = {c.name for c in story.companies}
    for company in sorted(set(model.story_inputs) - valued):
        labels = ", ".join(sorted(model.story_inputs.pop(company)))
        model.not_carried.append(f"{company} story inputs {labels} (no DCF block for it in "
                                 "this build: it needs a market value and a revenue "
                                 "run-rate, and at most 25 companies get one)")
        kept = [k for k, key in enumerate(model.chosen)   # carry() appends to both lists
                if not key.startswith(f"{STORY}{company}:")]
        model.carried[:] = [model.carried[k] for k in kept]
        model.chosen[:] = [model.chosen[k] for k in kept]


def _route(live: str | None) -> Route | None:
    if live is None:
        return None
    if live not in ROUTES:
        raise XlfuncsError(f"--live {live}: not a route; one of {', '.join(ROUTES)}")
    return ROUTES[live]


def _china_market(model: Model) -> Any:
    from .columns import values
    from .sheets import facts_ref

    fact = model.fact("China AI market", "market_size")
    if fact is None or fact.billions is None:
        return values("China_AI_Market_2030", [None], links=[None])
    column = values("China_AI_Market_2030", [fact.billions], links=[facts_ref(fact.row, "L")])
    return column


def build(data: DataPaths = None, out: str | Path = DEFAULT_OUT,
          keep_inputs: str | Path | None = None, force: bool = False,
          progress: Callable[[str], None] = _no_progress,
          reset_inputs: bool = False, article: bool | None = None,
          live: str | None = None) -> BuildReport:
    """Write the workbook from the article's facts, with any files of ``data`` layered
    over them (``article=False``: from ``data`` alone), to ``out``.

    Refuses to overwrite a workbook a person changed since it was built, unless ``force``
    (the edits are lost) or ``keep_inputs`` names that workbook itself (its inputs are
    carried and the edited file is first copied to NAME.backup.xlsx). ``keep_inputs``
    carries the input cells of an older copy into the new one. Rebuilding over an unedited
    build carries the inputs it had carried (unless ``reset_inputs``). The save is atomic:
    the target is either the old file or the complete new one.

    ``live``: a route (``server``, ``lite``, ``classic``): the workbook also has Live cells
    that call the add-in under that route's names (the shared workbook has none).
    """
    given = Path(out)
    target = check_target(given)   # a link's target: written in place of the link's name
    keep = None if keep_inputs is None else Path(keep_inputs)
    if keep is not None:
        check_zip(keep)  # a missing or non-workbook file is refused before any work
    from_itself = keep is not None and _same_file(keep, target)
    edited = False
    sources: list[tuple[Path, bool]] = []
    if target.exists():
        try:
            edited = edited_since_built(target)
        except UnsafeWorkbookError:
            if not force:
                raise TargetEditedError(
                    f"{given}: not a workbook xlfuncs built; choose another --out, or add "
                    "--force to overwrite it") from None
            edited = True
        if edited and not force and not from_itself:
            layers = [] if data is None else [data] if isinstance(data, (str, Path)) else data
            advice = " ".join(["xlfuncs build", *(f"--data {shlex.quote(str(d))}"
                                                  for d in layers),
                               *(["--no-article"] if article is False else []),
                               *([f"--live {live}"] if live else []),
                               f"--out {shlex.quote(str(given))}",
                               f"--keep-inputs {shlex.quote(str(given))}"])
            raise TargetEditedError(
                f"{given} was changed since xlfuncs built it: `{advice}` rebuilds it with "
                f"its inputs (the edited file is first copied to {backup_path(target).name}),"
                " or add --force to overwrite it, edits lost")
        if not edited and not reset_inputs and not from_itself and recorded_inputs(
                target) != []:  # [] : it carried nothing, so there is nothing to keep
            sources.append((target, True))
    carried_from = target if sources else None
    if keep is not None:
        sources.append((keep, False))
    content, model, checks_ok = _render(data, sources, progress, article, live)
    backup = backup_copy(target) if edited and from_itself and not force else None
    atomic_write(target, content)
    return BuildReport(target, len(model.companies), len(model.facts), checks_ok,
                       model.carried, len(content), model.not_carried, carried_from, backup,
                       given if given != target else None)


def check_target(given: Path) -> Path:
    """The file to write for ``--out given``: a symbolic link's target (the link stays, and
    its target is replaced atomically, as any target is). Refused, before any work: a
    name not ending in .xlsx (the file is an .xlsx workbook, whatever it is called), a
    link loop, a folder, a device, a path under a file."""
    if str(given) == "-":
        raise OutputPathError("-: xlfuncs writes a workbook file, not standard output; give "
                              "--out a name ending in .xlsx")
    target = given
    if given.is_symlink():
        try:
            target = given.resolve()
        except (OSError, RuntimeError):   # RuntimeError: Python 3.11's symlink loop
            raise OutputPathError(f"{given}: a symbolic link that never reaches a file (a "
                                  "loop); give another --out") from None
    if target.is_dir():
        raise OutputPathError(f"{target}: is a folder; give a file name, e.g. --out "
                              f"{target / DEFAULT_OUT.name}")
    _check_suffix(given, target)
    if target.exists() and not target.is_file():
        raise OutputPathError(f"{target}: not a regular file (a device, pipe or socket); "
                              "refused")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"{target}: cannot be written, {parent} is a file, "
                                      "not a folder")
            break
    return target


def _check_suffix(given: Path, target: Path) -> None:
    for name, shown in ((given, str(given)), (target, f"{given} (a link to {target})")):
        if name.suffix.lower() != ".xlsx":
            what = f"'{name.suffix}'" if name.suffix else "no extension"
            raise OutputPathError(f"{shown}: not written: xlfuncs writes an Excel workbook "
                                  f"(.xlsx), and this name has {what}; give a name ending in "
                                  ".xlsx")


def backup_path(target: Path) -> Path:
    """The first free NAME.backup.xlsx, NAME.backup-2.xlsx ... beside ``target``."""
    for number in range(1, 10_000):
        tail = "" if number == 1 else f"-{number}"
        candidate = target.with_name(f"{target.stem}.backup{tail}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputPathError(f"{target}: no free backup name beside it")


def backup_copy(target: Path) -> Path:
    """Copy ``target`` to :func:`backup_path` (never over an existing file)."""
    backup = backup_path(target)
    try:
        with open(backup, "xb") as out:
            try:
                out.write(target.read_bytes())
            except BaseException:
                backup.unlink(missing_ok=True)
                raise
        shutil.copymode(target, backup)
    except OSError as exc:
        raise SaveError(f"{backup}: the backup of {target} was not written "
                        f"({exc.strerror or exc}); {target} is unchanged") from None
    return backup


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False

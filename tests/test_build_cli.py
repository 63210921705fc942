"""The shared workbook's promises, through the real command line: file modes, interrupted
saves, one-line refusals (never a traceback), --keep-inputs against hostile and invalid
workbooks, advice that works when followed, and inputs kept across rebuilds."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlfuncs.cli import main
from xlfuncs.workbook import build, workbook_bytes
from xlfuncs.workbook.book import PAUSE_SAVE, atomic_write
from xlfuncs.workbook.carry import recorded_inputs
from xlfuncs.workbook.model import ASSUMPTIONS, CASH_RULE, GRID_YEARS_RULE, Rule
from xlfuncs.workbook.safety import edited_since_built

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "xlfuncs.cli"]
RULES = {a.name: a.rule for a in ASSUMPTIONS}


@pytest.fixture(scope="module")
def fresh() -> bytes:
    """The bytes of a default build, copied wherever a test needs a workbook."""
    return workbook_bytes()


def place(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def run(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
        cwd: Path = ROOT, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env={**os.environ, **(env or {})},
                          timeout=300, **kwargs)  # type: ignore[call-overload]


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2, one line 'xlfuncs: ...' on stderr with each fragment, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xlfuncs: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def named_cell(book: openpyxl.Workbook, name: str) -> tuple[str, str]:
    ((sheet, ref),) = book.defined_names[name].destinations
    return sheet, ref.replace("$", "")


def edit(path: Path, changes: dict[str, object]) -> None:
    """Type values into named input cells, as a colleague in Excel would."""
    book = openpyxl.load_workbook(path)
    for name, value in changes.items():
        sheet, cell = named_cell(book, name)
        book[sheet][cell] = value
    book.save(path)


def named_value(path: Path, name: str) -> object:
    book = openpyxl.load_workbook(path, data_only=True)
    sheet, cell = named_cell(book, name)
    return book[sheet][cell].value


# ---- file modes ---------------------------------------------------------------------


def test_new_files_follow_the_umask_and_rebuilt_files_keep_their_mode(
        tmp_path: Path, fresh: bytes) -> None:
    previous = os.umask(0o022)
    try:
        new = build(out=tmp_path / "new.xlsx").path
        assert new.stat().st_mode & 0o777 == 0o644
        shared = place(tmp_path / "shared.xlsx", fresh)
        shared.chmod(0o640)
        build(out=shared)
        assert shared.stat().st_mode & 0o777 == 0o640
        os.umask(0o077)
        atomic_write(tmp_path / "private.xlsx", b"x")
        assert (tmp_path / "private.xlsx").stat().st_mode & 0o777 == 0o600
        shared.chmod(0o664)
        atomic_write(shared, fresh)
        assert shared.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(previous)


# ---- interrupted saves --------------------------------------------------------------


def start_paused_build(target: Path) -> subprocess.Popen[str]:
    """A CLI build that sleeps inside its save, after writing the temporary file."""
    process = subprocess.Popen([*CLI, "build", "--out", str(target)], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, PAUSE_SAVE: "120"})
    deadline = time.monotonic() + 120
    while not temporaries(target.parent):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached its save"
        time.sleep(0.05)
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_build_stopped_during_its_save_leaves_no_temporary(tmp_path: Path, fresh: bytes,
                                                             signum: int) -> None:
    target = place(tmp_path / "book.xlsx", fresh)
    process = start_paused_build(target)
    (leftover,) = temporaries(tmp_path)
    assert re.fullmatch(rf"\.book\.xlsx\.{process.pid}\.[a-z0-9_]{{8}}\.tmp", leftover)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert stderr.startswith(f"xlfuncs: stopped by {signal.Signals(signum).name}")
    assert temporaries(tmp_path) == []
    assert target.read_bytes() == fresh


def test_later_builds_remove_what_a_killed_build_left(tmp_path: Path, fresh: bytes) -> None:
    target = place(tmp_path / "book.xlsx", fresh)
    process = start_paused_build(target)
    process.kill()  # SIGKILL: nothing runs, the temporary file stays
    process.communicate(timeout=60)
    (killed,) = temporaries(tmp_path)
    hour_ago, minutes_ago = time.time() - 3700, time.time() - 700
    os.utime(tmp_path / killed, (minutes_ago, minutes_ago))  # its writer has gone
    planted = {
        ".book.xlsx.4194303.abcdefgh.tmp": hour_ago,      # old, whoever wrote it: ours
        ".book.xlsx.abcdefgh.tmp": hour_ago,              # the name before pids: ours
        f".book.xlsx.{os.getpid()}.abcdefgh.tmp": hour_ago - 9999,  # ours, though running
        ".book.xlsx.4194303.zzzzzzzz.tmp": time.time(),  # fresh: may be another host's save
        ".book.xlsx.notes.tmp": hour_ago,                 # not a name xlfuncs gives
        ".other.xlsx.4194303.abcdefgh.tmp": hour_ago,     # another target's
    }
    for name, when in planted.items():
        (tmp_path / name).write_bytes(b"partial")
        os.utime(tmp_path / name, (when, when))
    build(out=target)
    assert temporaries(tmp_path) == sorted([".book.xlsx.4194303.zzzzzzzz.tmp",
                                            ".book.xlsx.notes.tmp",
                                            ".other.xlsx.4194303.abcdefgh.tmp"])


# ---- one-line refusals, never a traceback --------------------------------------------


def test_a_read_only_folder_is_one_line(tmp_path: Path, fresh: bytes) -> None:
    folder = tmp_path / "shared"
    target = place(folder / "book.xlsx", fresh)
    folder.chmod(0o555)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root writes anywhere: drop the capabilities that allow it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    try:
        result = run("build", "--out", str(target), prefix=prefix)
    finally:
        folder.chmod(0o755)
    assert_refused(result, str(target), "Permission denied", "the earlier file is unchanged")
    assert target.read_bytes() == fresh and temporaries(folder) == []


DISK_FULL = """
import errno, os, sys
real = os.fdopen
class Full:
    def __init__(self, handle): self.handle = handle
    def __enter__(self): return self
    def __exit__(self, *exc): self.handle.close()
    def fileno(self): return self.handle.fileno()
    def flush(self): pass
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
def fdopen(fd, mode="r", *args, **kwargs):  # only writes fail: the data file still reads
    handle = real(fd, mode, *args, **kwargs)
    return Full(handle) if "w" in mode else handle
os.fdopen = fdopen
from xlfuncs.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_is_one_line_and_keeps_the_earlier_file(tmp_path: Path,
                                                            fresh: bytes) -> None:
    target = place(tmp_path / "book.xlsx", fresh)
    result = subprocess.run([sys.executable, "-c", DISK_FULL, "build", "--out", str(target)],
                            capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert_refused(result, str(target), "No space left on device",
                   "the earlier file is unchanged")
    assert target.read_bytes() == fresh and temporaries(tmp_path) == []


def test_bad_paths_are_refused_in_one_line_before_any_work(tmp_path: Path,
                                                           fresh: bytes) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_refused(run("build", "--out", str(folder), "--force"), str(folder), "is a folder")
    note = tmp_path / "note.txt"
    note.write_text("mine")
    assert_refused(run("build", "--out", str(note / "book.xlsx")), str(note),
                   "is a file, not a folder")
    assert note.read_text() == "mine"
    target = place(tmp_path / "book.xlsx", fresh)
    assert_refused(run("build", "--out", str(target), "--keep-inputs",
                       str(tmp_path / "missing.xlsx")), "missing.xlsx", "no such file")
    assert_refused(run("build", "--out", str(target), "--keep-inputs", str(note)),
                   str(note), "not an Excel workbook")
    assert_refused(run("build", "--out", str(target), "--keep-inputs", str(folder)),
                   str(folder), "is a folder")
    assert target.read_bytes() == fresh
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "folder", "note.txt"]


# ---- --keep-inputs against hostile workbooks ---------------------------------------


def with_defined_names(source: Path, out: Path, texts: dict[str, str]) -> Path:
    """A copy of ``source`` whose named ranges point where ``texts`` says (raw XML)."""
    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts["xl/workbook.xml"].decode()
    for name, text in texts.items():
        xml, count = re.subn(rf'(<definedName name="{name}"[^>]*>)[^<]*(</definedName>)',
                             lambda m, t=text: m.group(1) + t + m.group(2), xml)
        assert count == 1, name
    parts["xl/workbook.xml"] = xml.encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out


def cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def test_hostile_defined_names_are_ignored_and_reported(tmp_path: Path, fresh: bytes) -> None:
    source = place(tmp_path / "source.xlsx", fresh)
    hostile = with_defined_names(source, tmp_path / "hostile.xlsx", {
        "USD_HKD": "",                                  # empty text
        "USD_CNY": "&#x41;",                            # an entity: the text "A"
        "Years": "<![CDATA[Inputs!$B$1:$B$9]]>",        # CDATA: read as its text
        "FX_Tolerance": "<x/>",                         # an element: no text at all
        "Peer_Multiple": "Inputs!$A$1:$XFD$1048576",    # the whole sheet
        "Company_Cash": "Inputs!$A$1:$XFD$1048576",
        "Grid_Years": "Inputs!$B$1:$B$1048576",
        "Discount_Rate": "Nowhere!$B$5",
    })
    out = tmp_path / "new.xlsx"
    started = time.monotonic()
    result = run("build", "--out", str(out), "--keep-inputs", str(hostile),
                 preexec_fn=cap_memory)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert time.monotonic() - started < 120
    lines = result.stdout.splitlines()
    for expected in (
            "  not carried: USD_HKD (its name refers to nothing, not to cells of a sheet)",
            "  not carried: USD_CNY (its name refers to 'A', not to cells of a sheet)",
            "  not carried: Peer_Multiple (its name refers to 17,179,869,184 cells, not one)",
            "  not carried: Company_Cash (its name refers to 17,179,869,184 cells; at most "
            "100,000 in one row or column are read)",
            "  not carried: Grid_Years (its name refers to 1,048,576 cells; at most 5 in one "
            "row or column are read)",
            "  not carried: Discount_Rate (its name refers to a sheet the workbook lacks: "
            "'Nowhere')"):
        assert expected in lines, (expected, result.stdout)
    assert "  not carried: Years (its name refers to 9 cells, not one)" in lines
    assert "  not carried: FX_Tolerance (its name refers to nothing, not to cells of a sheet)" \
        in lines
    assert named_value(out, "Peer_Multiple") == 11.5 and named_value(out, "USD_HKD") == 7.8


# ---- carried values obey the Inputs sheet's own rules -----------------------------------


def test_carried_values_obey_the_inputs_rules(tmp_path: Path, fresh: bytes,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    old = place(tmp_path / "old.xlsx", fresh)
    edit(old, {"USD_HKD": 0, "HKD_Band_High": 1e308, "USD_CNY": -5, "Years": 0,
               "Failure_Probability": 7, "Peer_Multiple": True,
               "USD_CNY_Flows": dt.datetime(2026, 1, 1), "Valuation_Date": "tomorrow",
               "FX_As_Of": 5, "Discount_Rate": 0.12})
    book = openpyxl.load_workbook(old)
    inputs = book["Inputs"]
    rows = {inputs.cell(r, 1).value: r for r in range(1, inputs.max_row + 1)}
    inputs.cell(rows["MiniMax"], 2).value = -3           # cash
    inputs.cell(rows["Zhipu"], 3).value = True           # cash date
    inputs.cell(rows["Zhipu"], 4).value = dt.datetime(2026, 3, 1)  # debt
    inputs.cell(rows["Zhipu"], 2).value = 6.5            # a good one
    sheet, where = named_cell(book, "Grid_Years")
    book[sheet][where.split(":")[0]].value = 0
    book.save(old)
    out = tmp_path / "new.xlsx"
    assert main(["build", "--out", str(out), "--keep-inputs", str(old)]) == 0
    printed = capsys.readouterr().out.splitlines()
    for expected in (
            "USD_HKD = 0 (rule: a number from 1 to 20)",
            "HKD_Band_High = 1e+308 (rule: a number from 1 to 20)",
            "USD_CNY = -5 (rule: a number from 1 to 20)",
            "Years = 0 (rule: a number from 0.5 to 50)",
            "Failure_Probability = 7 (rule: a number from 0 to 1)",
            "Peer_Multiple = TRUE (TRUE/FALSE is not a number; rule: a number from 0.1 to "
            "1000)",
            "USD_CNY_Flows = 2026-01-01 (a date, not a number; rule: a number from 1 to 20)",
            "Valuation_Date = 'tomorrow' (rule: a date (yyyy-mm-dd) after 1900-03-01)",
            "FX_As_Of = 1900-01-05 (rule: a date (yyyy-mm-dd) after 1900-03-01)",
            "MiniMax cash = -3 (rule: a number from 0 to 1e+07)",
            "Zhipu cash_as_of = TRUE (TRUE/FALSE is not a number; rule: a date (yyyy-mm-dd) "
            "after 1900-03-01)",
            "Zhipu debt = 2026-03-01 (a date, not a number; rule: a number from 0 to "
            "1e+07)",
            "Grid_Years = 0 (rule: a number from 0.5 to 50)"):
        assert f"  not carried: {expected}" in printed, (expected, printed)
    assert "  kept input Discount_Rate: 0.1 -> 0.12" in printed
    assert "  kept input Zhipu cash: 4.5 -> 6.5" in printed
    defaults = {a.name: a.value for a in ASSUMPTIONS}
    for name in ("USD_HKD", "USD_CNY", "Years", "Failure_Probability", "Peer_Multiple",
                 "USD_CNY_Flows", "HKD_Band_High"):
        assert named_value(out, name) == defaults[name], name


def test_the_inputs_sheet_validates_with_the_same_rules(tmp_path: Path, fresh: bytes) -> None:
    book = openpyxl.load_workbook(place(tmp_path / "book.xlsx", fresh))
    by_cell = {str(r): v for v in book["Inputs"].data_validations.dataValidation
               for r in v.sqref.ranges}
    for assumption in ASSUMPTIONS:
        _, where = named_cell(book, assumption.name)
        validation = by_cell[where]
        assert assumption.rule.describe() in validation.error
        assert {k: getattr(validation, k) for k in assumption.rule.excel()} == \
            assumption.rule.excel()
    years = book.defined_names["Grid_Years"].attr_text.split("!")[1].replace("$", "")
    assert by_cell[years].formula1 == f"{GRID_YEARS_RULE.low:g}"
    cash = book.defined_names["Company_Cash"].attr_text.split("!")[1].replace("$", "")
    assert by_cell[cash].formula2 == f"{CASH_RULE.high:g}"


@given(st.sampled_from(sorted(RULES)),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                 st.booleans(), st.dates(), st.text(max_size=5), st.none()))
def test_a_rule_passes_exactly_the_values_excel_would(name: str, value: object) -> None:
    rule: Rule = RULES[name]
    refusal = rule.refusal(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        assert refusal is not None
    elif rule.kind == "date":
        serial = ((value - dt.date(1899, 12, 30)).days if isinstance(value, dt.date)
                  else value)
        assert (refusal is None) == (61 < serial <= 2_958_465)  # type: ignore[operator]
    elif isinstance(value, dt.date):
        assert refusal is not None and "a date, not a number" in refusal
    else:
        assert (refusal is None) == (rule.low <= value <= rule.high)  # type: ignore[operator]
    if refusal is not None:
        assert refusal.endswith(f"rule: {rule.describe()}")


# ---- advice that works, inputs that survive rebuilds -------------------------------------


def test_the_advice_for_an_edited_workbook_works_when_followed(tmp_path: Path,
                                                               fresh: bytes) -> None:
    target = place(tmp_path / "e.xlsx", fresh)
    edit(target, {"USD_HKD": 7.82})
    edited = target.read_bytes()
    line = assert_refused(run("build", "--out", str(target)), "was changed since")
    advice = re.search(r"`([^`]+)`", line)
    assert advice, line
    command = shlex.split(advice.group(1))
    assert command[:2] == ["xlfuncs", "build"]
    result = run(*command[1:])
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "kept input USD_HKD: 7.8 -> 7.82" in result.stdout
    backup = tmp_path / "e.backup.xlsx"
    assert f"copied the edited {target} to {backup}" in result.stdout
    assert backup.name in line and backup.read_bytes() == edited
    assert named_value(target, "USD_HKD") == 7.82 and not edited_since_built(target)


def test_a_rebuild_keeps_carried_inputs_unless_reset(tmp_path: Path, fresh: bytes,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    target = place(tmp_path / "e.xlsx", fresh)
    edit(target, {"USD_CNY": 7.77})
    assert main(["build", "--out", str(target), "--force", "--keep-inputs",
                 str(target)]) == 0
    assert "kept input USD_CNY: 6.91 -> 7.77" in capsys.readouterr().out
    assert main(["build", "--out", str(target)]) == 0
    out = capsys.readouterr().out
    assert "  kept input USD_CNY: 6.91 -> 7.77" in out and "--reset-inputs" in out
    assert named_value(target, "USD_CNY") == 7.77 and not edited_since_built(target)
    assert recorded_inputs(target) == ["USD_CNY"]
    assert main(["build", "--out", str(target), "--reset-inputs"]) == 0
    assert "kept input" not in capsys.readouterr().out
    assert named_value(target, "USD_CNY") == 6.91 and recorded_inputs(target) == []
    assert target.read_bytes() == fresh


def test_an_older_default_is_not_mistaken_for_a_choice(tmp_path: Path, fresh: bytes,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """A build records what it carried: a later version's new default replaces an old
    default, and only inputs a person chose are kept."""
    import xlfuncs.workbook.model as model

    target = place(tmp_path / "e.xlsx", fresh)
    newer = tuple(a if a.name != "USD_CNY" else
                  model.Assumption(**{**a.__dict__, "value": 7.0}) for a in ASSUMPTIONS)
    monkeypatch.setattr(model, "ASSUMPTIONS", newer)
    report = build(out=target)
    assert report.carried == [] and named_value(target, "USD_CNY") == 7.0


# ---- --out: links followed, names that are not .xlsx refused ---------------------------


def test_a_symbolic_link_is_followed_and_its_target_replaced(tmp_path: Path,
                                                             fresh: bytes) -> None:
    real = place(tmp_path / "shared" / "book.xlsx", fresh)
    link = tmp_path / "mine.xlsx"
    link.symlink_to(real)
    edit(real, {"USD_HKD": 7.82})   # so the rebuild differs: kept through the link
    result = run("build", "--out", str(link), "--keep-inputs", str(link))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"wrote {real} (through the link {link})" in result.stdout
    assert link.is_symlink() and link.resolve() == real       # still a link, to the file
    assert named_value(real, "USD_HKD") == 7.82 and not edited_since_built(real)
    assert (tmp_path / "shared" / "book.backup.xlsx").exists()   # beside the real file
    dangling = tmp_path / "new.xlsx"
    dangling.symlink_to(tmp_path / "shared" / "created.xlsx")
    assert run("build", "--out", str(dangling)).returncode == 0
    assert dangling.is_symlink() and (tmp_path / "shared" / "created.xlsx").read_bytes() \
        == fresh
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to(tmp_path / "loop2.xlsx")
    (tmp_path / "loop2.xlsx").symlink_to(loop)
    assert_refused(run("build", "--out", str(loop)), str(loop), "never reaches a file")


@pytest.mark.parametrize("name, said", [("book.xlsm", "'.xlsm'"), ("book.csv", "'.csv'"),
                                        ("book", "no extension"), ("-", "standard output")])
def test_a_name_that_is_not_xlsx_is_refused_in_one_line(tmp_path: Path, name: str,
                                                        said: str) -> None:
    result = run("build", "--out", name, cwd=tmp_path)
    assert_refused(result, said)
    assert list(tmp_path.iterdir()) == [] and result.stdout == ""
    link = tmp_path / "link.xlsx"
    link.symlink_to(tmp_path / "notes.txt")
    assert_refused(run("build", "--out", str(link)), f"a link to {tmp_path / 'notes.txt'}",
                   "'.txt'")
    assert not (tmp_path / "notes.txt").exists()

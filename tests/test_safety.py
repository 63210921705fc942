"""The safe reader's checks (xlfuncs/workbook/safety.py), one crafted zip each. The limits
are made small with monkeypatch so the files stay tiny; each zip breaks exactly one check
and passes the others, so the test fails if that check is removed."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import pytest

from xlfuncs.workbook import TargetEditedError, build, safety, workbook_bytes
from xlfuncs.workbook.safety import UnsafeWorkbookError, check_zip, edited_since_built

from .helpers import documentation

PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def noise(size: int, seed: int = 1) -> bytes:
    """Bytes that do not compress (a ratio near 1), so only the size limits apply."""
    return random.Random(seed).randbytes(size)


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_minimal_workbook_zip_passes_every_check(tmp_path: Path) -> None:
    names = check_zip(write_zip(tmp_path / "ok.xlsx", {**PARTS, "xl/a.bin": noise(3000)}))
    assert set(names) == {*PARTS, "xl/a.bin"}


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_ENTRIES", 5)
    at_limit = {**PARTS, **{f"xl/{i}.xml": b"<x/>" for i in range(3)}}
    check_zip(write_zip(tmp_path / "five.xlsx", at_limit))  # 5 entries: allowed
    over = write_zip(tmp_path / "six.xlsx", {**at_limit, "xl/3.xml": b"<x/>"})
    with pytest.raises(UnsafeWorkbookError, match="6 entries; the limit is 5"):
        check_zip(over)


def test_total_inflated_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_UNCOMPRESSED", 2 * 2**20)
    parts_size = sum(len(data) for data in PARTS.values())  # 19 bytes
    # exactly at the limit, counting the small parts too: allowed; one byte more: refused
    room = 2 * 2**20 - parts_size
    check_zip(write_zip(tmp_path / "at.xlsx", {**PARTS, "xl/a.bin": noise(room)}))
    over = write_zip(tmp_path / "over.xlsx", {**PARTS, "xl/a.bin": noise(room + 1)})
    with pytest.raises(UnsafeWorkbookError, match=r"the entries up to 'xl/a\.bin' inflate beyond "
                                                  r"the 2 MiB limit for a workbook"):
        check_zip(over)
    # each entry is well under the per-entry limit; together they are over the total
    big = write_zip(tmp_path / "big.xlsx", {**PARTS, "xl/a.bin": noise(2**20 + 10),
                                            "xl/b.bin": noise(2**20, seed=2)})
    with pytest.raises(UnsafeWorkbookError, match=r"up to 'xl/b\.bin' inflate beyond the 2 MiB"):
        check_zip(big)


def test_one_entry_inflated_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_ENTRY", 2**20)
    check_zip(write_zip(tmp_path / "small.xlsx", {**PARTS, "xl/a.bin": noise(2**20)}))
    big = write_zip(tmp_path / "big.xlsx", {**PARTS, "xl/a.bin": noise(2**20 + 1)})
    with pytest.raises(UnsafeWorkbookError,
                       match=r"'xl/a\.bin' inflates beyond the 1 MiB limit for one entry"):
        check_zip(big)


def test_compression_ratio(tmp_path: Path) -> None:
    # 20 kB of zeros deflate to a few dozen bytes: several hundred to one, over MAX_RATIO
    # (200); noise of the same size is fine, so the size limits are not what refuses it
    check_zip(write_zip(tmp_path / "noise.xlsx", {**PARTS, "xl/a.bin": noise(20_000)}))
    bomb = write_zip(tmp_path / "bomb.xlsx", {**PARTS, "xl/a.bin": b"\0" * 20_000})
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("xl/a.bin")
        assert info.file_size / info.compress_size > safety.MAX_RATIO
    with pytest.raises(UnsafeWorkbookError, match=r"'xl/a\.bin' compresses .*zip bomb") as refused:
        check_zip(bomb)
    # the ratio is shown whole (555:1 with zlib's 36 bytes for 20,000 zeros), not 555.55...
    shown = re.search(r"compresses (\d+):1, refused", str(refused.value))
    assert shown and int(shown.group(1)) == info.file_size // info.compress_size


def test_a_ratio_exactly_at_the_limit_is_allowed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = write_zip(tmp_path / "bomb.xlsx", {**PARTS, "xl/a.bin": b"\0" * 20_000})
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("xl/a.bin")
    monkeypatch.setattr(safety, "MAX_RATIO", info.file_size / info.compress_size)
    assert "xl/a.bin" in check_zip(bomb)


def test_a_damaged_zip(tmp_path: Path) -> None:
    good = write_zip(tmp_path / "good.xlsx", PARTS).read_bytes()
    # the end record is intact (it is a zip) but the central directory it points to is not
    start = good.index(b"PK\x01\x02")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(good[:start] + b"XX\x01\x02" + good[start + 4:])
    assert zipfile.is_zipfile(damaged)
    with pytest.raises(UnsafeWorkbookError, match="damaged workbook"):
        check_zip(damaged)
    with pytest.raises(UnsafeWorkbookError, match="damaged workbook"):
        edited_since_built(damaged)


def test_not_a_zip_and_a_zip_without_workbook_parts(tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("PK but not really a zip")
    with pytest.raises(UnsafeWorkbookError, match=r"not an Excel workbook \(.xlsx is a zip"):
        check_zip(text)
    with pytest.raises(UnsafeWorkbookError, match="no such file"):
        check_zip(tmp_path / "missing.xlsx")
    for missing in PARTS:
        parts = {**PARTS, "docProps/app.xml": b"<x/>"}
        del parts[missing]
        other = write_zip(tmp_path / "other.xlsx", parts)
        with pytest.raises(UnsafeWorkbookError, match="a zip, but not an Excel workbook"):
            check_zip(other)


# ---- the fingerprint that says a workbook is as xlfuncs built it ---------------------------


@pytest.fixture(scope="module")
def built_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(workbook_bytes())) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_rezipped_copy_with_the_same_parts_is_not_edited(tmp_path: Path,
                                                           built_parts: dict[str, bytes]
                                                           ) -> None:
    # the fingerprint is of the parts, not the zip's bytes: another compressor is fine
    assert not edited_since_built(write_zip(tmp_path / "same.xlsx", built_parts))


def test_a_missing_fingerprint_counts_as_edited(tmp_path: Path,
                                                built_parts: dict[str, bytes]) -> None:
    without = {k: v for k, v in built_parts.items() if k != "docProps/custom.xml"}
    path = write_zip(tmp_path / "no-custom.xlsx", without)
    assert edited_since_built(path) is True
    with pytest.raises(TargetEditedError):
        build(out=path)  # a file xlfuncs cannot vouch for is not overwritten
    custom = built_parts["docProps/custom.xml"].replace(b"xlfuncs_fingerprint", b"other_name")
    assert edited_since_built(write_zip(tmp_path / "renamed.xlsx",
                                        {**built_parts, "docProps/custom.xml": custom})) is True


def test_a_fingerprint_that_does_not_match_counts_as_edited(tmp_path: Path,
                                                            built_parts: dict[str, bytes]
                                                            ) -> None:
    sheet = "xl/worksheets/sheet4.xml"  # Valuation: MiniMax's HK$ market value cached 300
    assert built_parts[sheet].count(b"<v>300</v>") >= 1
    changed = {**built_parts, sheet: built_parts[sheet].replace(b"<v>300</v>", b"<v>301</v>", 1)}
    assert edited_since_built(write_zip(tmp_path / "changed.xlsx", changed)) is True
    # a stored fingerprint of the right form but for other content
    custom = built_parts["docProps/custom.xml"]
    forged = {**built_parts, "docProps/custom.xml": _with_fingerprint(custom, "ab" * 32)}
    assert edited_since_built(write_zip(tmp_path / "forged.xlsx", forged)) is True


def _with_fingerprint(custom: bytes, digest: str) -> bytes:
    replaced, count = re.subn(rb"(<vt:lpwstr[^>]*>)[0-9a-f]{64}(<)",
                              rb"\g<1>" + digest.encode() + rb"\2", custom)
    assert count == 1
    return replaced


def test_the_limits_are_the_ones_the_readme_promises() -> None:
    """The other tests shrink the limits to keep their files small; here the real ones
    must be what the README tells a colleague a workbook may hold."""
    import re

    from xlfuncs.workbook import safety

    readme = " ".join(documentation().split())
    entry = re.search(r"no entry over (\d+) MiB inflated", readme)
    ratio = re.search(r"compression ratio over (\d+):1", readme)
    assert entry and ratio
    assert safety.MAX_ENTRY == int(entry.group(1)) * 2**20 == 256 * 2**20
    assert safety.MAX_RATIO == int(ratio.group(1)) == 200
    assert safety.MAX_UNCOMPRESSED == 2 * safety.MAX_ENTRY and safety.MAX_ENTRIES == 10_000


def test_a_stray_byte_in_the_custom_properties_is_read_past(
        tmp_path: Path, built_parts: dict[str, bytes]) -> None:
    # a byte that is not UTF-8 is replaced, not a crash; the fingerprint covers every part
    # but this one (it stores the fingerprint), so the other parts still match it
    custom = built_parts["docProps/custom.xml"].replace(b"<Properties", b"\xff<Properties", 1)
    assert custom != built_parts["docProps/custom.xml"]
    path = write_zip(tmp_path / "stray.xlsx", {**built_parts, "docProps/custom.xml": custom})
    assert edited_since_built(path) is False


# ---- reading a workbook's cells -------------------------------------------------------------


def test_the_reader_gives_cached_values_and_leaves_no_file_open(
        tmp_path: Path, built_parts: dict[str, bytes]) -> None:
    path = write_zip(tmp_path / "built.xlsx", built_parts)
    fds = Path("/proc/self/fd")
    book = safety.load_workbook_safely(path)
    # Valuation!F6 is MiniMax's HK$300 bn at 7.8 HK$ per US$: the cached number, not the
    # formula text
    assert book["Valuation"]["F6"].value == pytest.approx(300 / 7.8, rel=1e-11)
    assert book["Valuation"]["B6"].value == 300
    if fds.is_dir():  # on Windows an open file could not be replaced by the next build
        held = {str(link.readlink()) for link in fds.iterdir() if link.is_symlink()}
        assert str(path.resolve()) not in held


def test_the_reader_refuses_what_openpyxl_cannot_parse(tmp_path: Path) -> None:
    # the zip checks pass (both parts present) but the XML is not a workbook's
    path = write_zip(tmp_path / "hollow.xlsx", PARTS)
    with pytest.raises(UnsafeWorkbookError, match="cannot be read as a workbook"):
        safety.load_workbook_safely(path)

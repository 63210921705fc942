"""What changed between two .xlsx files, cell by cell, for a change detector's message.

Both files are unzipped and each worksheet's XML parsed (lxml, no entities, no network);
sheet files are mapped to their names through xl/workbook.xml and its relationships, and
cells are compared by reference: formula text and cached value. Parts that are not
worksheets (styles, charts, names) are compared as bytes and listed by name.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

# (formula text or None, cached value as text or None) of one cell
CellContent = tuple[str | None, str | None]


@dataclass(frozen=True)
class CellChange:
    sheet: str
    ref: str
    old: CellContent | None   # None: no such cell in the old file
    new: CellContent | None

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.ref}"
        if self.old is not None and self.new is not None and self.old[0] == self.new[0]:
            formula = "" if self.old[0] is None else f" (formula ={self.old[0][:60]}...)"
            return f"{where}: value {self.old[1]!r} -> {self.new[1]!r}{formula}"
        return f"{where}: {_show(self.old)} -> {_show(self.new)}"


@dataclass
class WorkbookDiff:
    cells: list[CellChange] = field(default_factory=list)
    sheets_added: list[str] = field(default_factory=list)
    sheets_removed: list[str] = field(default_factory=list)
    other_parts: list[str] = field(default_factory=list)   # non-sheet parts that differ

    @property
    def changed_sheets(self) -> list[str]:
        return list(dict.fromkeys(c.sheet for c in self.cells))

    def __bool__(self) -> bool:
        return bool(self.cells or self.sheets_added or self.sheets_removed or self.other_parts)


def _show(content: CellContent | None) -> str:
    if content is None:
        return "(no cell)"
    formula, value = content
    shown = "" if formula is None else f"formula ={formula[:100]}, "
    return f"{shown}value {value!r}"


def _parts(source: bytes | Path) -> dict[str, bytes]:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def sheet_files(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> its part name (xl/worksheets/sheetN.xml), in the workbook's order."""
    workbook = etree.fromstring(parts["xl/workbook.xml"], PARSER)
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"], PARSER)
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{PKG_REL}Relationship")}
    found = {}
    for sheet in workbook.iter(f"{MAIN}sheet"):
        target = targets[sheet.get(f"{REL}id")]
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        found[sheet.get("name")] = part
    return found


def _shared_strings(parts: dict[str, bytes]) -> list[str]:
    if "xl/sharedStrings.xml" not in parts:
        return []
    root = etree.fromstring(parts["xl/sharedStrings.xml"], PARSER)
    return ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iter(f"{MAIN}si")]


def sheet_cells(xml: bytes, shared: list[str]) -> dict[str, CellContent]:
    """Reference -> (formula, cached value) of every cell with a formula or a value."""
    cells: dict[str, CellContent] = {}
    for cell in etree.fromstring(xml, PARSER).iter(f"{MAIN}c"):
        formula_node, value_node = cell.find(f"{MAIN}f"), cell.find(f"{MAIN}v")
        formula = None if formula_node is None else (formula_node.text or "")
        value = None if value_node is None else (value_node.text or "")
        kind = cell.get("t")
        if kind == "inlineStr":
            value = "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
        elif kind == "s" and value is not None:
            value = shared[int(value)]
        if formula is not None or value not in (None, ""):
            cells[cell.get("r")] = (formula, value)
    return cells


def diff_workbooks(old: bytes | Path, new: bytes | Path) -> WorkbookDiff:
    """Every cell whose formula or cached value differs, sheet by sheet."""
    old_parts, new_parts = _parts(old), _parts(new)
    old_sheets, new_sheets = sheet_files(old_parts), sheet_files(new_parts)
    old_shared, new_shared = _shared_strings(old_parts), _shared_strings(new_parts)
    result = WorkbookDiff(sheets_added=[s for s in new_sheets if s not in old_sheets],
                          sheets_removed=[s for s in old_sheets if s not in new_sheets])
    for name, new_part in new_sheets.items():
        if name not in old_sheets:
            continue
        before = sheet_cells(old_parts[old_sheets[name]], old_shared)
        after = sheet_cells(new_parts[new_part], new_shared)
        for ref in sorted(before.keys() | after.keys(), key=_order):
            if before.get(ref) != after.get(ref):
                result.cells.append(CellChange(name, ref, before.get(ref), after.get(ref)))
    compared = {*old_sheets.values(), *new_sheets.values(), "xl/sharedStrings.xml",
                "docProps/custom.xml"}  # custom.xml holds the fingerprint of the rest
    result.other_parts = sorted(
        p for p in old_parts.keys() | new_parts.keys()
        if p not in compared and old_parts.get(p) != new_parts.get(p))
    return result


def _order(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(ref[len(letters):]), column


def describe(diff: WorkbookDiff, limit: int = 20) -> str:
    """A message listing what changed: sheets, then at most ``limit`` cells and a count."""
    lines = []
    if diff.sheets_added or diff.sheets_removed:
        lines.append(f"sheets added: {diff.sheets_added}, removed: {diff.sheets_removed}")
    if diff.cells:
        by_sheet = {s: sum(c.sheet == s for c in diff.cells) for s in diff.changed_sheets}
        lines.append(f"{len(diff.cells)} cells changed (formula text, cached value; old -> new) "
                     "in " + ", ".join(f"{s} ({n})" for s, n in by_sheet.items()) + ":")
        lines += [f"  {change}" for change in diff.cells[:limit]]
        if len(diff.cells) > limit:
            lines.append(f"  ... and {len(diff.cells) - limit} more cells")
    if diff.other_parts:
        lines.append("other parts changed (layout, styles, charts, names): "
                     + ", ".join(diff.other_parts))
    return "\n".join(lines)

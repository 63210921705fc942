"""What editing a cell changes, as LibreOffice computes it: for each edit, whether any
formula cell of the workbook shows another value after a full recalculation.

One LibreOffice process opens the workbook once and runs a Basic macro over the edits:
set the cell, recalculate everything, compare every formula cell's value with the values
before the edit, put the cell back. (Hundreds of edits cost seconds; a conversion per edit
would cost minutes.) The macro is installed in the user profile that
:mod:`xlfuncs.workbook.libreoffice` makes for a run.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from xlfuncs.workbook import libreoffice

# Formula cells of every sheet, as one text a range (values joined); errors read as "#".
MACRO = r"""
Function Snapshot(doc As Object) As Variant
    Dim texts() As String, n As Long, s As Integer, k As Long, r As Long, c As Long
    n = -1
    For s = 0 To doc.Sheets.Count - 1
        sheet = doc.Sheets.getByIndex(s)
        ranges = sheet.queryContentCells(com.sun.star.sheet.CellFlags.FORMULA)
        addresses = ranges.getRangeAddresses()
        For k = LBound(addresses) To UBound(addresses)
            a = addresses(k)
            block = sheet.getCellRangeByPosition(a.StartColumn, a.StartRow, _
                                                 a.EndColumn, a.EndRow)
            text = ""
            For r = 0 To a.EndRow - a.StartRow
                For c = 0 To a.EndColumn - a.StartColumn
                    cell = block.getCellByPosition(c, r)
                    If cell.getError() <> 0 Then
                        text = text & "#" & cell.getError() & Chr(9)
                    Else
                        text = text & cell.getString() & "|" & cell.getValue() & Chr(9)
                    End If
                Next c
            Next r
            n = n + 1
            ReDim Preserve texts(n)
            texts(n) = sheet.Name & "!" & a.StartRow & ":" & a.StartColumn & "=" & text
        Next k
    Next s
    Snapshot = texts
End Function

Function Changed(before As Variant, after As Variant) As Long
    Dim k As Long, count As Long
    count = 0
    If UBound(before) <> UBound(after) Then
        Changed = 1
        Exit Function
    End If
    For k = 0 To UBound(before)
        If before(k) <> after(k) Then count = count + 1
    Next k
    Changed = count
End Function

Sub Main
    Dim props(0) As New com.sun.star.beans.PropertyValue
    props(0).Name = "Hidden"
    props(0).Value = True
    url = ConvertToURL(Environ("XLFUNCS_BOOK"))
    doc = StarDesktop.loadComponentFromURL(url, "_blank", 0, props())
    doc.calculateAll()
    before = Snapshot(doc)
    source = FreeFile
    Open Environ("XLFUNCS_EDITS") For Input As #source
    target = FreeFile
    Open Environ("XLFUNCS_RESULT") For Output As #target
    Do While Not EOF(source)
        Line Input #source, edit
        parts = Split(edit, Chr(9))
        cell = doc.Sheets.getByName(parts(0)).getCellRangeByName(parts(1))
        kept = cell.getFormula()
        If parts(2) = "n" Then
            cell.setValue(Val(parts(3)))
        Else
            cell.setString(parts(3))
        End If
        doc.calculateAll()
        Print #target, edit & Chr(9) & Changed(before, Snapshot(doc))
        cell.setFormula(kept)
        doc.calculateAll()
    Loop
    Close #source
    Close #target
    doc.close(True)
    StarDesktop.terminate()
End Sub
"""

XBA = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" \
script:language="StarBasic">{code}</script:module>
"""


@dataclass(frozen=True)
class Edit:
    sheet: str
    cell: str
    value: float | str

    def line(self) -> str:
        kind = "n" if isinstance(self.value, float) else "s"
        return "\t".join((self.sheet, self.cell, kind, repr(self.value) if kind == "n"
                          else str(self.value)))


def install_macro(work: Path, timeout: float) -> None:
    """The macro as Module1 of the Basic library 'Standard', in the profile that
    libreoffice._run makes under ``work``: started once first, since LibreOffice writes a
    fresh profile's libraries over whatever is there."""
    libreoffice._run(["--terminate_after_init"], work, timeout)
    module = work / "profile" / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.exists():
        raise RuntimeError(f"LibreOffice made no Basic library at {module.parent}")
    module.write_text(XBA.format(code=escape(MACRO)), "utf-8")


def formula_cells_changed(workbook: Path, edits: list[Edit],
                          timeout: float = 600) -> dict[Edit, int]:
    """For each edit, how many ranges of formula cells show other values after it."""
    with tempfile.TemporaryDirectory(prefix="xlfuncs-effects-") as folder:
        work = Path(folder)
        install_macro(work, timeout)
        (work / "edits.txt").write_text("".join(e.line() + "\n" for e in edits), "utf-8")
        environment = {"XLFUNCS_BOOK": str(workbook.resolve()),
                       "XLFUNCS_EDITS": str(work / "edits.txt"),
                       "XLFUNCS_RESULT": str(work / "result.txt")}
        saved = {k: os.environ.get(k) for k in environment}
        os.environ.update(environment)
        try:
            libreoffice._run(["macro:///Standard.Module1.Main"], work, timeout)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        lines = (work / "result.txt").read_text("utf-8").splitlines()
    by_line = {e.line(): e for e in edits}
    found = {}
    for line in lines:
        edit, _, count = line.rpartition("\t")
        found[by_line[edit]] = int(count)
    if len(found) != len(edits):
        raise RuntimeError(f"LibreOffice answered {len(found)} of {len(edits)} edits")
    return found

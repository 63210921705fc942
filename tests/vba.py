"""What the classic add-in's *Import Functions* writes for ``xlfuncs.udfs``, and VBA's rules
for the names in it.

xlwings' own generator (``xlwings.udfs.generate_vba_wrapper``) is Windows-only by its
imports (pywin32); :data:`GENERATE` runs it in a fresh interpreter with those imports
stubbed and xlwings' classic decorators in place of the Office.js ones, so that
``xlfuncs.udfs`` is decorated exactly as on Windows. Nothing else of xlwings is changed.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GENERATE = r"""
import io, json, sys, types

for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["pywintypes"].com_error = OSError
sys.modules["win32com.client"].Dispatch = lambda *args: None
sys.modules["win32com"].client = sys.modules["win32com.client"]

import xlwings
import xlwings.udfs as classic  # the classic add-in's UDF machinery (Windows-only imports)

xlwings.func, xlwings.arg, xlwings.ret = classic.xlfunc, classic.xlarg, classic.xlret
import xlfuncs.udfs as udfs  # decorated as on Windows


class Workbook:  # what generate_vba_wrapper reads of the COM workbook
    Name = "valuation.xlsm"


vba = io.StringIO()
classic.generate_vba_wrapper("xlfuncs.udfs", udfs, vba, Workbook())
functions = {f.__xlfunc__["name"]: f.__xlfunc__ for f in vars(udfs).values()
             if hasattr(f, "__xlfunc__")}
print(json.dumps({"vba": vba.getvalue(), "docs": {
    name: [x["ret"]["doc"], [a["doc"] for a in x["args"]]] for name, x in functions.items()}}))
"""

# MS-VBAL (the VBA language specification) section 3.3.5.2, "Reserved Identifiers and
# IDENTIFIER": statement keywords, marker keywords, operator identifiers, special forms,
# reserved type identifiers, reserved names, literal identifiers, Rem, the identifiers
# reserved for implementation use, and the future-reserved ones. Case-insensitive.
RESERVED = frozenset(word.casefold() for word in """
Call Case Close Const Declare DefBool DefByte DefCur DefDate DefDbl DefInt DefLng DefLngLng
DefLngPtr DefObj DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase Event Exit For
Friend Function Get Global GoSub GoTo If Implements Input Let Lock Loop LSet Next On Open
Option Print Private Public Put RaiseEvent ReDim Resume Return RSet Seek Select Set Static
Stop Sub Type Unlock Wend While With Write
Any As ByRef ByVal Each In New Shared Until WithEvents Optional ParamArray Preserve Spc Tab
Then To
AddressOf And Eqv Imp Is Like Mod Not Or TypeOf Xor
Array Circle InputB LBound Scale UBound
Boolean Byte Currency Date Double Integer Long LongLong LongPtr Single String Variant
Abs CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr CSng CStr CVar CVErr Debug
DoEvents Fix Int Len LenB Me PSet Sgn
True False Nothing Empty Null
Rem
Attribute LINEINPUT VB_Base VB_Control VB_Creatable VB_Customizable VB_Description
VB_Exposed VB_Ext_KEY VB_GlobalNameSpace VB_HelpID VB_Invoke_Func VB_Invoke_Property
VB_Invoke_PropertyPut VB_Invoke_PropertyPutRef VB_MemberFlags VB_Name VB_PredeclaredId
VB_ProcData VB_TemplateDerived VB_UserMemId VB_VarDescription VB_VarHelpID
VB_VarMemberFlags VB_VarProcData VB_VarUserMemId
CDecl Decimal DefDec
""".split())

# Names the generated body uses: a parameter or function of the same name would shadow
# them inside the body (VBA is case-insensitive), and "caller" is an argument xlwings
# fills in itself.
USED_BY_THE_BODY = frozenset(w.casefold() for w in (
    "Application", "Range", "Err", "XLPy", "ThisWorkbook", "ActiveWorkbook", "failed",
    "argsArray", "k", "caller"))
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_IDENTIFIER = 255    # VBA: a name has at most 255 characters
MAX_LINE = 1023         # VBA: a physical line has at most 1023 characters
MAX_ARGUMENTS = 60      # VBA: a procedure takes at most 60 arguments
MAX_DOC = 255           # Excel's MacroOptions: xlwings cuts descriptions to 255 characters


@dataclass(frozen=True)
class Declaration:
    name: str
    params: tuple[str, ...]


def generate() -> tuple[str, dict[str, list]]:
    """The VBA module text xlwings writes for ``xlfuncs.udfs``, and each function's
    description and argument descriptions as it passes them to Excel."""
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_ON_SERVER"}
    done = subprocess.run([sys.executable, "-c", GENERATE], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise AssertionError(f"xlwings' VBA generator failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout)
    return found["vba"], found["docs"]


def declarations(vba: str) -> list[Declaration]:
    """Each ``Function name(params)`` line of the module."""
    found = []
    for match in re.finditer(r"^Function (\w+)\((.*)\)$", vba, re.MULTILINE):
        params = tuple(p.removeprefix("Optional ").removeprefix("ParamArray ").rstrip("()")
                       for p in match.group(2).split(", ") if p)
        found.append(Declaration(match.group(1), params))
    return found


def problems(declaration: Declaration) -> list[str]:
    """Why VBA would refuse (or Excel misread) a declaration; empty when it is sound."""
    found = []
    names = [declaration.name, *declaration.params]
    for name in names:
        if not IDENTIFIER.fullmatch(name) or len(name) > MAX_IDENTIFIER:
            found.append(f"{name!r} is not a VBA name (a letter, then letters, digits or _)")
        if name.casefold() in RESERVED:
            found.append(f"{name!r} is a reserved word in VBA")
        if name.casefold() in USED_BY_THE_BODY:
            found.append(f"{name!r} would shadow a name the generated body uses")
    if len({n.casefold() for n in names}) != len(names):
        found.append("two names are the same to VBA (case-insensitive)")
    if len(declaration.params) > MAX_ARGUMENTS:
        found.append(f"{len(declaration.params)} arguments: VBA takes at most {MAX_ARGUMENTS}")
    if re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", declaration.name):
        found.append(f"{declaration.name!r} reads as a cell reference in Excel")
    return found


def excel_branch(vba: str) -> str:
    """The module as Excel compiles it: the ``#If App = "Microsoft Excel"`` branches kept,
    the ``#Else`` ones dropped (LibreOffice Basic has no conditional compilation)."""
    kept, skipping = [], False
    for line in vba.splitlines():
        directive = line.strip()
        if directive.startswith("#If "):
            continue
        if directive == "#Else":
            skipping = True
        elif directive == "#End If":
            skipping = False
        elif not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


MARKER_SUB = """
Sub XlfuncsCompiled()
    Open "{marker}" For Output As #1
    Print #1, "compiled"
    Close #1
End Sub
"""


def compiles_in_libreoffice(vba: str, work: Path, soffice: str, wait: float = 120) -> bool:
    """Whether LibreOffice Basic, in VBA mode (``Option VBASupport 1``), compiles ``vba``.

    The module goes into the Standard library of a fresh LibreOffice profile with a Sub
    that writes a marker file; running that Sub headless compiles the whole module first.
    A module that does not compile never writes the marker (LibreOffice then waits on an
    error dialog nobody sees, so it is stopped after ``wait`` seconds)."""
    profile = work / "profile"
    marker = work / "compiled.txt"
    install = f"-env:UserInstallation={profile.as_uri()}"
    subprocess.run([soffice, install, "--headless", "--terminate_after_init"],
                   capture_output=True, timeout=wait, check=False)
    library = profile / "user" / "basic" / "Standard"
    source = ("Option VBASupport 1\n" + excel_branch(vba)
              + MARKER_SUB.format(marker=marker))
    (library / "Module1.xba").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC '
        '"-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n<script:module '
        'xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        f'script:language="StarBasic">{html.escape(source, quote=False)}</script:module>',
        encoding="utf-8")
    running = subprocess.Popen([soffice, install, "--headless", "--norestore",
                                "macro:///Standard.Module1.XlfuncsCompiled"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + wait
    try:
        while not marker.exists() and running.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
        running.wait()
    return marker.exists()

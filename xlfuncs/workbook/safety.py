"""Reading workbooks that come from other people, carefully.

A workbook is a zip of XML. Before any XML is parsed we check the zip itself: that it is
one, that its entries are not absurdly large once inflated, and that nothing compresses
suspiciously well (a zip bomb). The XML is then parsed by openpyxl, which uses defusedxml
(a dependency of xlfuncs) against entity-expansion attacks.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from ..errors import XlfuncsError
from .book import FINGERPRINT, content_fingerprint

MAX_UNCOMPRESSED = 512 * 1024 * 1024   # all entries together, inflated
MAX_ENTRY = 256 * 1024 * 1024          # one entry, inflated
MAX_RATIO = 200                        # inflated / compressed, per entry
MAX_ENTRIES = 10_000


class UnsafeWorkbookError(XlfuncsError):
    """A file that is not a workbook, or one we refuse to parse."""


def check_zip(path: Path) -> dict[str, zipfile.ZipInfo]:
    """The entries of a workbook file, after the checks above; raises UnsafeWorkbookError."""
    if path.is_dir():
        raise UnsafeWorkbookError(f"{path}: is a folder, not a workbook")
    if not path.exists():
        raise UnsafeWorkbookError(f"{path}: no such file")
    if not path.is_file():
        raise UnsafeWorkbookError(f"{path}: not a regular file (a device, pipe or socket)")
    if not zipfile.is_zipfile(path):
        raise UnsafeWorkbookError(f"{path}: not an Excel workbook (.xlsx is a zip file; "
                                  "this one is not)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeWorkbookError(f"{path}: damaged workbook ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise UnsafeWorkbookError(f"{path}: {len(infos)} entries; the limit is {MAX_ENTRIES}")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_ENTRY:
            raise UnsafeWorkbookError(f"{path}: '{info.filename}' inflates beyond the "
                                      f"{MAX_ENTRY // 2**20} MiB limit for one entry")
        if total > MAX_UNCOMPRESSED:
            raise UnsafeWorkbookError(f"{path}: the entries up to '{info.filename}' inflate "
                                      f"beyond the {MAX_UNCOMPRESSED // 2**20} MiB limit "
                                      "for a workbook")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise UnsafeWorkbookError(f"{path}: '{info.filename}' compresses "
                                      f"{info.file_size // info.compress_size}:1, "
                                      "refused as a possible zip bomb")
    names = {info.filename: info for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnsafeWorkbookError(f"{path}: a zip, but not an Excel workbook")
    return names


def load_workbook_safely(path: Path) -> Any:
    """openpyxl's workbook with cached values, after :func:`check_zip`."""
    import defusedxml  # noqa: F401  (openpyxl uses it when installed; make sure it is)
    from openpyxl import load_workbook

    check_zip(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it skips
            return load_workbook(path, data_only=True, read_only=False)
    except Exception as exc:  # openpyxl raises many kinds for malformed parts
        raise UnsafeWorkbookError(f"{path}: cannot be read as a workbook ({exc})") from None


def edited_since_built(path: Path) -> bool:
    """True unless the file is exactly as an xlfuncs build left it."""
    names = check_zip(path)
    with zipfile.ZipFile(path) as archive:
        if "docProps/custom.xml" not in names:
            return True
        custom = archive.read("docProps/custom.xml").decode("utf-8", "replace")
        found = re.search(rf'name="{FINGERPRINT}".*?<vt:lpwstr[^>]*>([0-9a-f]{{64}})<', custom)
        if not found:
            return True
        parts = {name: archive.read(name) for name in names}
    return content_fingerprint(parts) != found.group(1)

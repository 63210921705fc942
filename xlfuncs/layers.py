"""Layered facts: the article's file as the base, a person's own files over it.

Later files override earlier ones fact by fact (the key: :func:`name_key` of company and
metric; a range's two rows are one fact). Within one file a repeated key is refused (see
:mod:`xlfuncs.facts_file`). The article's bundled file is the first layer unless
``article=False`` (``--no-article``, ``XLFUNCS_NO_ARTICLE=1``) or the list names it itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import XlfuncsError
from .facts_file import COLUMNS, COMBINES_SEPARATOR, decode, name_key, parse_rows, read_bytes

DATA_ENV = "XLFUNCS_DATA"
NO_ARTICLE_ENV = "XLFUNCS_NO_ARTICLE"
BUNDLED_LABEL = "xlfuncs/data/facts.csv"  # the same on every machine: the workbook shows it
FRAME_COLUMNS = (*COLUMNS, "combines", "file", "row")
DataPaths = str | os.PathLike | Sequence[str | os.PathLike] | None


@dataclass(frozen=True)
class Layer:
    """One file of the layered dataset, as the About sheet lists it."""

    path: Path
    label: str        # what the workbook and DATA_SOURCE call it
    sha256: str
    rows: int         # a range's low and high rows are two rows...
    facts: int        # ...and one fact, as the workbook counts them
    overrides: int    # facts of earlier layers it replaced


def bundled_path() -> Path:
    """The article dataset shipped inside the package."""
    return Path(str(resources.files("xlfuncs") / "data" / "facts.csv"))


def _is_bundled(path: Path) -> bool:
    return os.path.realpath(path) == os.path.realpath(bundled_path())


def resolve_paths(path: DataPaths = None, article: bool | None = None) -> list[Path]:
    """The files to layer, in order: ``path`` (one or a list), else ``$XLFUNCS_DATA``
    (paths separated by ``os.pathsep``); the bundled article file first unless
    ``article`` is False (default: ``$XLFUNCS_NO_ARTICLE`` unset or 0) or listed."""
    if path is None or (isinstance(path, str) and not path.strip()):
        given: list[Any] = [p for p in os.environ.get(DATA_ENV, "").split(os.pathsep)
                            if p.strip()]
    elif isinstance(path, (str, os.PathLike)):
        given = [path]
    else:
        given = list(path)
    if article is None:
        article = os.environ.get(NO_ARTICLE_ENV, "").strip() in ("", "0")
    paths = [Path(p) for p in given]
    if article and not any(_is_bundled(p) for p in paths):
        paths.insert(0, bundled_path())
    if not paths:
        raise XlfuncsError("no facts file: give one (--data FILE) or keep the article's")
    return paths


def label_of(path: Path) -> str:
    return BUNDLED_LABEL if _is_bundled(path) else str(path)


def group_rows(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((name_key(r["company"]), name_key(r["metric"])), []).append(r)
    return groups


def frame_of(facts: dict[tuple[str, str], tuple[list[dict[str, Any]], str]],
             layers: Sequence[Layer]) -> pd.DataFrame:
    """The facts DataFrame: :data:`FRAME_COLUMNS`, a range's two rows together."""
    records = [{**r, "combines": COMBINES_SEPARATOR.join(r["combines"]), "file": label}
               for group, label in facts.values() for r in group]
    frame = pd.DataFrame(records, columns=list(FRAME_COLUMNS))
    for column in ("period_start", "period_end", "as_of"):
        frame[column] = pd.to_datetime(frame[column])
    frame.attrs["layers"] = tuple(layers)
    return frame


def load_layers(paths: Sequence[Path]) -> pd.DataFrame:
    """Read each file strictly, then lay them over each other in order."""
    merged: dict[tuple[str, str], tuple[list[dict[str, Any]], str]] = {}
    spelling: dict[str, str] = {}  # a later file's "zhipu" shows as the first's "Zhipu"
    layers: list[Layer] = []
    for path in paths:
        content = read_bytes(path)
        label = label_of(path)
        groups = group_rows(parse_rows(decode(content, path), path))
        overrides = 0
        for key, group in groups.items():
            for r in group:
                r["company"] = spelling.setdefault(key[0], r["company"])
                r["metric"] = spelling.setdefault("\0" + key[1], r["metric"])
            overrides += key in merged
            merged[key] = (group, label)  # an override keeps the fact's place
        layers.append(Layer(path, label, hashlib.sha256(content).hexdigest(),
                            sum(len(g) for g in groups.values()), len(groups), overrides))
    return frame_of(merged, layers)

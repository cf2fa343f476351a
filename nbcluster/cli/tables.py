"""kubectl's tables as pandas DataFrames, and kubectl's text layout. No I/O.

:func:`table` lays objects out with :mod:`nbcluster.cli.printers` (kubectl's
columns and cell wording); ``-A`` adds the NAMESPACE column first, as kubectl does.
The plain DataFrame is the value; it carries ``attrs["nbcluster.kind"]`` so the
notebook can colour it by status (``nbcluster.ui.display``), and
``attrs["nbcluster.empty"]`` with kubectl's "No resources found…" line when empty.

:class:`TableGroup` holds several tables (``get all``, ``get pods,svc``): a dict of
DataFrames keyed by resource, shown one after the other like kubectl does.
:func:`tabwrite` is Go's ``text/tabwriter`` (kubectl's padding 3 for tables, 2 for
describe), :func:`render` prints a table exactly as kubectl would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd

from nbcluster.api.resources import ResourceInfo
from nbcluster.cli.printers import columns, row

__all__ = ["EMPTY_ATTR", "KIND_ATTR", "TableGroup", "empty_table", "mark", "render", "table", "tabwrite"]

KIND_ATTR = "nbcluster.kind"
EMPTY_ATTR = "nbcluster.empty"


def mark(frame: pd.DataFrame, kind: str, empty_message: str | None = None) -> pd.DataFrame:
    """Tag a DataFrame as a kubectl table of ``kind`` (what the notebook display looks for)."""
    frame.attrs[KIND_ATTR] = kind
    if empty_message is not None:
        frame.attrs[EMPTY_ATTR] = empty_message
    return frame


def table(
    info: ResourceInfo,
    objects: Iterable[dict[str, Any]],
    *,
    now: datetime,
    wide: bool = False,
    all_namespaces: bool = False,
    show_labels: bool = False,
    label_columns: Iterable[str] = (),
    with_kind: bool = False,
) -> pd.DataFrame:
    """One row per object with ``kubectl get``'s columns (strings, as kubectl prints them).

    ``label_columns`` (``-L``) adds one column per label key, upper-cased like kubectl;
    ``with_kind`` prefixes each NAME with ``kind.group/`` as kubectl does when several
    resource types are printed together.
    """
    header = columns(info, wide=wide)
    label_keys = list(label_columns)
    rows = []
    for obj in objects:
        cells = row(obj, now=now, wide=wide)
        labels = obj.get("metadata", {}).get("labels") or {}
        if with_kind and cells:
            cells[0] = f"{info.kubectl_name}/{cells[0]}"
        cells += [labels.get(key, "") for key in label_keys]
        if show_labels:
            cells.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
        if all_namespaces and info.namespaced:
            cells.insert(0, obj.get("metadata", {}).get("namespace", ""))
        rows.append(cells)
    header = [*header, *(key.rsplit("/", 1)[-1].upper() for key in label_keys)]
    if show_labels:
        header = [*header, "LABELS"]
    if all_namespaces and info.namespaced:
        header = ["NAMESPACE", *header]
    return mark(pd.DataFrame(rows, columns=header), info.kind)


def empty_table(
    info: ResourceInfo, message: str, *, wide: bool = False, all_namespaces: bool = False
) -> pd.DataFrame:
    """An empty table (kubectl's columns) that displays as kubectl's ``No resources found`` line."""
    frame = table(info, [], now=datetime.now(), wide=wide, all_namespaces=all_namespaces)
    return mark(frame, info.kind, message)


class TableGroup(dict):
    """Several kubectl tables, keyed by resource (``pods``, ``deployments.apps``…)."""

    def text(self) -> str:
        return "\n\n".join(render(frame) for frame in self.values())

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


# ------------------------------------------------------------------------ text layout


def tabwrite(text: str, *, padding: int = 3, minwidth: int = 0) -> str:
    """Go's ``text/tabwriter`` (AlignLeft, padchar ' '): tab-terminated cells become columns.

    A column block is a run of consecutive lines that have a cell in that column;
    the last cell of a line is not tab-terminated and does not take part.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts = []
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell + " " * (widths[j] - len(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def format_block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            format_block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    format_block(0, len(lines))
    return "\n".join(out)


def render(frame: pd.DataFrame) -> str:
    """A table as ``kubectl get`` prints it (upper-case header, columns padded by 3)."""
    empty = frame.attrs.get(EMPTY_ATTR)
    if frame.empty and empty:
        return str(empty)
    header = [str(c) for c in frame.columns]
    lines = ["\t".join(header)]
    for values in frame.itertuples(index=False):
        lines.append(
            "\t".join("" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values)
        )
    # every cell tab-terminated so that the last column aligns too, then trailing blanks dropped
    text = tabwrite("\n".join(line + "\t" for line in lines), padding=3)
    return "\n".join(line.rstrip() for line in text.split("\n"))

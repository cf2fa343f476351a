"""How kubectl tables look in a notebook: status colours over the plain DataFrame. No I/O.

A table that :mod:`nbcluster.cli.tables` made carries ``attrs["nbcluster.kind"]``.
:func:`register` teaches IPython to show such DataFrames (and
:class:`~nbcluster.cli.tables.TableGroup`) as a styled HTML table, coloured by
:func:`nbcluster.cli.printers.status_colour` (STATUS cells; TYPE for events), and as
kubectl's aligned text where only plain text is shown. The value itself stays the
plain DataFrame (``df = %kube get pods``); every other DataFrame displays as usual.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from nbcluster.cli.printers import status_colour
from nbcluster.cli.tables import EMPTY_ATTR, KIND_ATTR, TableGroup, render

__all__ = ["COLOURS", "register", "styled", "to_html", "unregister"]

#: A status category -> the CSS of its cell (GitHub's palette: readable on light and dark).
COLOURS: dict[str, str] = {
    "ok": "color: #1a7f37; font-weight: 600",
    "done": "color: #57606a",
    "progress": "color: #0969da",
    "warning": "color: #bc4c00; font-weight: 600",
    "error": "color: #cf222e; font-weight: 700",
}

_TABLE_STYLES = [
    {
        "selector": "th",
        "props": "text-align: left; font-family: var(--jp-code-font-family, monospace); "
        "font-size: 12px; padding: 2px 12px 2px 0",
    },
    {
        "selector": "td",
        "props": "text-align: left; font-family: var(--jp-code-font-family, monospace); "
        "font-size: 12px; padding: 2px 12px 2px 0; white-space: pre",
    },
]


def _is_table(frame: Any) -> bool:
    return isinstance(frame, pd.DataFrame) and KIND_ATTR in frame.attrs


def _cell_css(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    return COLOURS.get(status_colour(value), "")


def _event_css(value: Any) -> str:
    return COLOURS["warning"] if value == "Warning" else ""


def styled(frame: pd.DataFrame) -> Styler:
    """The DataFrame as a Styler: no index, monospace, STATUS (and events' TYPE) coloured."""
    styler = frame.style.hide(axis="index").set_table_styles(_TABLE_STYLES)
    if "STATUS" in frame.columns:
        styler = styler.map(_cell_css, subset=["STATUS"])
    if str(frame.attrs.get(KIND_ATTR, "")) == "Event" and "TYPE" in frame.columns:
        styler = styler.map(_event_css, subset=["TYPE"])
    return styler


def to_html(frame: pd.DataFrame) -> str:
    empty = frame.attrs.get(EMPTY_ATTR)
    if frame.empty and empty:
        return f"<pre>{html.escape(str(empty))}</pre>"
    return styled(frame).to_html()


def _html(obj: Any) -> str | None:
    if isinstance(obj, TableGroup):
        if not obj:
            return None
        return "<br/>".join(to_html(frame) for frame in obj.values())
    if _is_table(obj):
        return to_html(obj)
    method = getattr(obj, "_repr_html_", None)
    return method() if callable(method) else None


def _plain(obj: Any, printer: Any, cycle: bool) -> None:
    if isinstance(obj, TableGroup):
        printer.text(obj.text())
    elif _is_table(obj):
        printer.text(render(obj))
    else:
        printer.text(repr(obj))


_saved: dict[tuple[str, type], Any] = {}


def register(shell: Any) -> None:
    """Show kubectl tables styled in ``shell`` (an IPython InteractiveShell). Idempotent."""
    formatters = shell.display_formatter.formatters
    for mime, function in (("text/html", _html), ("text/plain", _plain)):
        formatter = formatters[mime]
        for kind in (pd.DataFrame, TableGroup):
            key = (mime, kind)
            if key in _saved:
                continue
            _saved[key] = formatter.for_type(kind, function)


def unregister(shell: Any) -> None:
    """Undo :func:`register` (``%unload_ext``)."""
    formatters = shell.display_formatter.formatters
    for (mime, kind), previous in list(_saved.items()):
        formatter = formatters[mime]
        formatter.pop(kind, None)
        if previous is not None:
            formatter.for_type(kind, previous)
        del _saved[(mime, kind)]

"""HTML for live widgets: kubectl tables styled like ``%kube get``, status chips. No I/O.

The notebook shows a ``get`` table through pandas' Styler (:mod:`nbcluster.ui.display`),
which takes ~0.1 s for 1,000 rows: too slow to redraw four times a second. This
module writes the same table — the same columns, monospace cells, status colours
(:data:`nbcluster.ui.display.COLOURS` over :func:`nbcluster.cli.printers.status_colour`),
Warning events highlighted — directly, with one shared stylesheet, in about a tenth
of the time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Container, Iterable, Sequence

from nbcluster.cli.printers import status_colour
from nbcluster.ui.display import COLOURS

__all__ = ["STYLE", "TABLE_CLASS", "chip", "colour_class", "escape", "note", "row_html", "table_html"]

TABLE_CLASS = "nbcluster-live"

_CELL = (
    "text-align: left; font-family: var(--jp-code-font-family, monospace); font-size: 12px; "
    "padding: 2px 12px 2px 0"
)

#: One stylesheet for every live widget (the same rules as the styled ``get`` table).
STYLE = (
    "<style>"
    f".{TABLE_CLASS} {{border-collapse: separate; border-spacing: 0; line-height: 1.4}}"
    f".{TABLE_CLASS} th {{{_CELL}; white-space: nowrap; position: sticky; top: 0;"
    " background: var(--jp-layout-color0, white)}"
    f".{TABLE_CLASS} th:first-child {{border-left: 3px solid var(--jp-layout-color0, white)}}"
    f".{TABLE_CLASS} td:first-child {{border-left: 3px solid transparent}}"
    f".{TABLE_CLASS} td {{{_CELL}; white-space: pre}}"
    + "".join(
        f".{TABLE_CLASS} .nb-{name}, .nbcluster-chips .nb-{name}, .nbcluster-note.nb-{name}, "
        f".nbcluster-note .nb-{name} {{{css}}}"
        for name, css in COLOURS.items()
    )
    + f".{TABLE_CLASS} tr.nb-warning-row td {{background: rgba(255, 176, 0, 0.14)}}"
    f".{TABLE_CLASS} tr.nb-new-row td:first-child {{border-left-color: #0969da}}"
    f".{TABLE_CLASS} a {{color: var(--jp-content-link-color, #0969da); text-decoration: underline}}"
    ".nbcluster-note {font-family: var(--jp-code-font-family, monospace); font-size: 12px; color: #57606a;"
    " line-height: 1.4}"
    ".nbcluster-chips {display: flex; flex-wrap: wrap; gap: 3px; margin: 2px 0}"
    ".nbcluster-chips span {font-family: var(--jp-code-font-family, monospace); font-size: 11px; padding: 0 5px;"
    " border: 1px solid currentColor; border-radius: 8px}"
    "</style>"
)


_SPECIAL = re.compile(r"[&<>\"']")


def escape(text: object) -> str:
    value = str(text)
    return html.escape(value, quote=True) if _SPECIAL.search(value) else value


def colour_class(cell: str) -> str:
    """``nb-ok`` / ``nb-progress`` / … for a STATUS cell, "" for an empty one."""
    return f"nb-{status_colour(cell)}" if cell else ""


def row_html(
    cells: Sequence[str],
    row_class: str = "",
    *,
    status_column: int | None = None,
    warning_column: int | None = None,
    raw_columns: Container[int] = (),
) -> str:
    """One ``<tr>``: cells escaped (except ``raw_columns``), the STATUS cell coloured.

    ``warning_column`` (events' TYPE) is coloured when it reads ``Warning``.
    """
    out = [f'<tr class="{row_class}">' if row_class else "<tr>"]
    for index, cell in enumerate(cells):
        text = cell if index in raw_columns else escape(cell)
        if index == status_column and cell:
            out.append(f'<td class="{colour_class(cell)}">{text}</td>')
        elif index == warning_column and cell == "Warning":
            out.append(f'<td class="nb-warning">{text}</td>')
        else:
            out.append(f"<td>{text}</td>")
    out.append("</tr>")
    return "".join(out)


def table_html(
    header: Sequence[str],
    rows: Iterable[tuple[Sequence[str], str] | str],
    *,
    status_column: int | None = None,
    warning_column: int | None = None,
    footer: str = "",
    raw_columns: Sequence[int] = (),
) -> str:
    """A kubectl table: ``rows`` are (cells, row class) pairs, or ``<tr>`` strings made by :func:`row_html`."""
    out = [STYLE, f'<table class="{TABLE_CLASS}"><thead><tr>']
    out += [f"<th>{escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    raw = set(raw_columns)
    for item in rows:
        if isinstance(item, str):
            out.append(item)
        else:
            cells, row_class = item
            out.append(
                row_html(
                    cells,
                    row_class,
                    status_column=status_column,
                    warning_column=warning_column,
                    raw_columns=raw,
                )
            )
    out.append("</tbody></table>")
    if footer:
        out.append(note(footer))
    return "".join(out)


def note(text: str) -> str:
    return f'<div class="nbcluster-note">{escape(text)}</div>'


def chip(label: str, status: str, title: str) -> str:
    """A small pill coloured by a STATUS word (the scale slider's per-pod strip)."""
    return f'<span class="{colour_class(status)}" title="{escape(title)}">{escape(label)}</span>'

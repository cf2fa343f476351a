"""``LiveTable``: a ``kubectl get -w`` table that keeps itself current in the notebook.

The same columns and cells as ``%kube get`` (:func:`nbcluster.cli.printers.columns`
and :func:`~nbcluster.cli.printers.row`), the same look (status colours), kept
current from the watch stream by the shared hub thread: a change shows within a
few tenths of a second, redraws are throttled to four a second, AGE keeps counting
and deleted objects' rows go away. The table is an HTML widget whose value is
replaced in one piece, inside a fixed-height scroll box that is never rebuilt: no
flicker and no lost scroll position. ``.df`` is the current table as a DataFrame
(exactly what ``get`` returns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from nbcluster.api.resources import resolve
from nbcluster.cli.printers import columns, row
from nbcluster.cli.tables import mark, table
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, escape, note, row_html, table_html
from nbcluster.ui.widgets._hub import Changes, Key, RowCache

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["Column", "LiveTable"]

Obj = dict[str, Any]
#: An extra column: header, and a function from the object to the cell's HTML.
Column = tuple[str, Callable[[Obj], str]]


class LiveTable(LiveWidget):
    """A live ``kubectl get`` table. Build it with :func:`nbcluster.ui.widgets.live`."""

    def __init__(
        self,
        cluster: Cluster,
        resource: str,
        *,
        namespace: str | None = None,
        selector: str | dict | None = None,
        field_selector: str | None = None,
        all_namespaces: bool = False,
        wide: bool = False,
        label_columns: Iterable[str] = (),
        show_labels: bool = False,
        max_rows: int = 1000,
        height: str = "420px",
        sort_key: Callable[[Obj], Any] | None = None,
        newest_first: bool = False,
        extra_columns: Sequence[Column] = (),
        row_class: Callable[[Obj], str] | None = None,
        title: str | None = None,
    ) -> None:
        self.info = resolve(resource)
        self.all_namespaces = bool(all_namespaces and self.info.namespaced)
        if self.info.namespaced and not self.all_namespaces:
            self.namespace: str | None = namespace or getattr(cluster, "namespace", None) or "default"
        else:
            self.namespace = None
        self.selector = selector
        self.field_selector = field_selector
        self.wide = wide
        self.label_columns = list(label_columns)
        self.show_labels = show_labels
        self.max_rows = max_rows
        self.sort_key = sort_key
        self.newest_first = newest_first
        self.extra_columns = list(extra_columns)
        self.row_class = row_class
        self.title = title
        self._objects: dict[Key, Obj] = {}
        self._order: list[Key] | None = None
        #: The status line above the table, and the table itself.
        self.status = widgets.HTML()
        self.html = widgets.HTML(layout=widgets.Layout(max_height=height, overflow="auto"))
        self.html.add_class("nbcluster-live-table")
        super().__init__(cluster, children=[self.status, self.html])
        self.add_class(f"nbcluster-live-{self.info.plural}")
        self._live_watch(
            self.info, self._on_changes, namespace=self.namespace, labels=selector, fields=field_selector
        )
        self._live_start()

    # -- state ----------------------------------------------------------------------

    def _on_changes(self, changes: Changes) -> None:
        with self._live_lock:
            objects = self._objects
            size = len(objects)
            objects.update(changes)  # C speed; deleted keys arrive as None and are dropped next
            if len(objects) != size:
                self._order = None
            if None in changes.values():
                for key in [k for k, v in changes.items() if v is None]:
                    del objects[key]
                self._order = None
            self._live_dirty = True

    def objects(self) -> list[Obj]:
        """The objects shown, in the table's order (the store's own: do not mutate)."""
        with self._live_lock:
            return [self._objects[key] for key in self._ordered()]

    def _ordered(self) -> list[Key]:
        if self.sort_key is not None:
            keys = sorted(
                self._objects,
                key=lambda k: self.sort_key(self._objects[k]),  # type: ignore[misc]
                reverse=self.newest_first,
            )
            return keys
        if self._order is None:
            self._order = sorted(self._objects)
        return self._order

    @property
    def df(self) -> pd.DataFrame:
        """The table now, as ``get`` returns it (kubectl's columns, strings)."""
        frame = table(
            self.info,
            self.objects(),
            now=self.cluster.clock.now(),
            wide=self.wide,
            all_namespaces=self.all_namespaces,
            show_labels=self.show_labels,
            label_columns=self.label_columns,
        )
        if frame.empty:
            mark(frame, self.info.kind, self._empty_message())
        return frame

    @property
    def count(self) -> int:
        """How many objects the table holds."""
        with self._live_lock:
            return len(self._objects)

    # -- drawing ----------------------------------------------------------------------

    def header(self) -> list[str]:
        head = list(columns(self.info, wide=self.wide))
        head += [key.rsplit("/", 1)[-1].upper() for key in self.label_columns]
        if self.show_labels:
            head.append("LABELS")
        if self.all_namespaces:
            head.insert(0, "NAMESPACE")
        head += [name for name, _fn in self.extra_columns]
        return head

    def _empty_message(self) -> str:
        if self.namespace is not None:
            return f"No resources found in {self.namespace} namespace."
        return "No resources found"

    def _live_draw(self) -> None:
        feed = self._live_hub.feed(self.cluster, self.info)
        cache = feed.rows if feed is not None else None
        now = self.cluster.clock.now()
        now_s = now.timestamp()
        with self._live_lock:
            keys = self._ordered()
            shown = [(key, self._objects[key]) for key in keys[: self.max_rows]]
            total = len(keys)
        header = self.header()
        status_column = header.index("STATUS") if "STATUS" in header else None
        warning_column = header.index("TYPE") if self.info.kind == "Event" and "TYPE" in header else None
        base = len(header) - len(self.extra_columns)
        raw = range(base, len(header))
        # A plain layout (kubectl's columns, maybe NAMESPACE first) shares its <tr> HTML through the
        # feed's row cache: thirty tables of the same pods build each row once.
        plain = not (self.label_columns or self.show_labels or self.extra_columns or self.row_class)
        layout = (self.all_namespaces, status_column, warning_column)
        rows: list[tuple[list[str], str] | str] = []
        rows_cache = cache._rows if cache is not None else None
        young = RowCache.YOUNG
        for key, obj in shown:
            entry = rows_cache.get((key, self.wide)) if rows_cache is not None else None
            # inlined RowCache.row() fast path: same object, time cells still current
            if (
                entry is None
                or entry.obj is not obj
                or now_s - entry.computed >= (1.0 if now_s - entry.born < young else 10.0)
            ):
                entry = cache.row(key, obj, now, now_s, wide=self.wide) if cache is not None else None
            if plain and entry is not None:
                html = entry.html.get(layout)
                if html is None:
                    cells = [key[0], *entry.cells] if self.all_namespaces else entry.cells
                    html = entry.html[layout] = row_html(
                        cells, status_column=status_column, warning_column=warning_column
                    )
                rows.append(html)
                continue
            cells = list(entry.cells) if entry is not None else row(obj, now=now, wide=self.wide)
            labels = obj["metadata"].get("labels") or {}
            cells += [labels.get(k, "") for k in self.label_columns]
            if self.show_labels:
                cells.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
            if self.all_namespaces:
                cells.insert(0, key[0])
            cells += [fn(obj) for _name, fn in self.extra_columns]
            rows.append((cells, self.row_class(obj) if self.row_class else ""))
        if total == 0:
            body = STYLE + f'<pre class="nbcluster-note">{escape(self._empty_message())}</pre>'
        else:
            footer = f"… and {total - len(shown)} more (all in .df)" if total > len(shown) else ""
            body = table_html(
                header,
                rows,
                status_column=status_column,
                warning_column=warning_column,
                footer=footer,
                raw_columns=raw,
            )
        if self.html.value != body:
            self.html.value = body
        state = STYLE + note(f"● live · {self._describe()} · {total} row{'s' if total != 1 else ''}")
        if self.status.value != state:
            self.status.value = state

    def _describe(self) -> str:
        what = self.title or self.info.plural
        if self.namespace is not None:
            what += f" in {self.namespace}"
        elif self.info.namespaced:
            what += " in all namespaces"
        if self.selector:
            what += f" -l {self.selector}"
        if self.field_selector:
            what += f" --field-selector {self.field_selector}"
        return what

    def _live_stopped(self, reason: str) -> None:
        self.status.value = stopped_html(reason)

    def __repr__(self) -> str:
        state = "live" if self.live else f"stopped ({self.stopped_reason})"
        return f"<LiveTable {self._describe()}: {self.count} rows, {state}>"

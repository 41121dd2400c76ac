"""The windowed queue: a Line-API ScrollView that never holds more than a few pages.

As in Toolong's LogLines: ``virtual_size`` is the row count (one COUNT query),
``render_line(y)`` draws row ``scroll_y + y`` from an LRU cache of fixed-size
pages, and a missing page is fetched in a thread worker with
``queries.window`` (which reads deep pages backwards from the end, so End is as
cheap as Home).  A million rows cost the same as a hundred: one count and the
page or two on screen.  ``rows_fetched`` / ``queries_issued`` count the work
done so a test can assert on it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from console import queries, rules
from console.i18n import t
from console.queries import QueueFilter, QueueRow
from screens import fmt
from screens.dbwork import in_db
from screens.keymap import localize_bindings

PAGE = 50
MAX_PAGES = 40  # LRU: at most 2,000 rows in memory whatever the table size
LINE_CACHE = 400  # rendered lines kept (a few screens' worth)


@dataclass(frozen=True)
class Column:
    name: str
    width: int


def columns(kind: str, width: int) -> list[Column]:
    """Column widths in cells for a list ``width`` wide: the title takes the rest."""
    wide = width >= 120
    ref = 17 if kind == "work_order" else 13
    cols = [Column("mark", 2), Column("ref", ref), Column("sev", 6)]
    tail = [Column("status", 12 if wide else 10), Column("where", 18 if wide else 12),
            Column("left", 9)]
    if width >= 150:
        tail.insert(0, Column("extra", 14))
    used = sum(c.width for c in cols + tail) + len(cols + tail)  # one space between columns
    cols.append(Column("title", max(8, width - used)))
    return cols + tail


def heading(kind: str, width: int) -> Text:
    text = Text(no_wrap=True, end="")
    for col in columns(kind, width):
        name = "" if col.name == "mark" else t(f"ui.col.{col.name}.{kind}") if col.name in (
            "where", "extra") else t(f"ui.col.{col.name}")
        text.append_text(fmt.fit(name, col.width, right=col.name == "left"))
        text.append(" ")
    return text


class ItemList(ScrollView, can_focus=True):
    """Rows of one queue, most urgent first, fetched a page at a time."""

    COMPONENT_CLASSES = {"itemlist--cursor", "itemlist--dim", "itemlist--alert",
                         "itemlist--flash"}
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "ui.key.up", show=False, id="list.up"),
        Binding("down,j", "cursor(1)", "ui.key.down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "ui.key.pageup", show=False, id="list.pageup"),
        Binding("pagedown", "page(1)", "ui.key.pagedown", show=False, id="list.pagedown"),
        Binding("home", "jump(0)", "ui.key.home", show=False, id="list.home"),
        Binding("end", "jump(-1)", "ui.key.end", show=False, id="list.end"),
        Binding("enter", "open", "ui.key.open", show=True, id="list.open"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        def __init__(self, item_list: ItemList, row: QueueRow | None) -> None:
            super().__init__()
            self.item_list, self.row = item_list, row

    class Opened(Message):
        def __init__(self, item_list: ItemList, row: QueueRow) -> None:
            super().__init__()
            self.item_list, self.row = item_list, row

    class Counted(Message):
        def __init__(self, item_list: ItemList, total: int) -> None:
            super().__init__()
            self.item_list, self.total = item_list, total

    def __init__(self, flt: QueueFilter, *, id: str | None = None, autoload: bool = True) -> None:
        super().__init__(id=id)
        self.autoload = autoload  # False: read on start(), once the visible queue painted
        self.started = False
        localize_bindings(self)
        self.filter = flt
        self.total: int | None = None
        self._pages: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: set[int] = set()
        self._fetch_scheduled = False
        self._gen = 0
        self.rows_fetched = 0
        self.queries_issued = 0
        self._lines: OrderedDict[tuple, Strip] = OrderedDict()  # rendered lines (LRU)

    @property
    def kind(self) -> str:
        return self.filter.kind

    # ------------------------------------------------------------------ data

    def on_mount(self) -> None:
        if self.autoload:
            self.start()

    def start(self) -> None:
        """The first read (a hidden queue's waits until the visible one has painted)."""
        if not self.started:
            self.started = True
            self.reload()

    def set_filter(self, flt: QueueFilter) -> None:
        """A different question: drop what we have and count again."""
        self.filter = flt
        self._gen += 1
        self._pages.clear()
        self._pending.clear()
        self.total = None
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._load(self._gen, flt, None, self.app)
        self.refresh()

    def reload(self) -> None:
        """Same question, data changed: re-read what is shown, keep the cursor on its item."""
        self._gen += 1
        self._pending.clear()
        self._load(self._gen, self.filter, self.selected, self.app)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, gen: int, flt: QueueFilter, follow: QueueRow | None, app) -> None:
        # ``app`` is passed in: a worker thread has no active-app context of its own
        flt = flt.with_(now=app.ctx.now()) if flt.overdue_only else flt
        height, anchor0, scroll = max(self.size.height, 1), self.cursor, int(self.scroll_y)

        if follow is None and anchor0 == 0 and scroll == 0:
            # a new question: paint the first page at once, count (maybe a long walk) after
            first_rows = in_db(queries.window, flt, 0, PAGE)
            if get_current_worker().is_cancelled:
                return
            app.call_from_thread(self._loaded, gen, len(first_rows), None, {0: first_rows}, 1,
                                 False)

        def read() -> tuple[int, int | None, dict[int, list[QueueRow]], int]:
            issued = 1
            total = queries.count(flt)
            cursor = None
            if follow is not None:
                current = queries.row_by_id(flt.kind, follow.id)
                issued += 1
                if current is not None:
                    cursor = min(queries.position_of(flt, current.key), max(total - 1, 0))
                    issued += 1
            anchor = anchor0 if cursor is None else cursor
            top = max(0, min(anchor - height // 2, scroll))
            first = top // PAGE
            last = min(max(total - 1, 0), top + height) // PAGE
            pages = {}
            for p in range(first, last + 1):
                pages[p] = queries.window(flt, p * PAGE, PAGE, total=total)
                issued += 1
            return total, cursor, pages, issued

        result = in_db(read)
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, gen, *result)

    def _loaded(self, gen: int, total: int, cursor: int | None,
                pages: dict[int, list[QueueRow]], issued: int, final: bool = True) -> None:
        if gen != self._gen:
            return
        if not final and self.total is not None:
            return  # the full answer came first
        self.queries_issued += issued
        self.total = total
        self._pages.clear()
        for p, rows in pages.items():
            self._store(p, rows)
        self.virtual_size = Size(self.size.width, total)
        if cursor is not None and cursor != self.cursor:
            self.cursor = cursor
        elif self.cursor >= total:
            self.cursor = max(0, total - 1)
        else:
            self._announce()
        self.refresh()
        if final:
            self.post_message(self.Counted(self, total))

    def _store(self, page: int, rows: list[QueueRow]) -> None:
        self.rows_fetched += len(rows)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _want(self, page: int) -> None:
        self._wanted.add(page)
        if not self._fetch_scheduled:
            self._fetch_scheduled = True
            self.call_later(self._fetch_wanted)

    def _fetch_wanted(self) -> None:
        """Fetch the wanted pages still on screen (a fast scroll skips what it passed)."""
        self._fetch_scheduled = False
        if self.total is None:
            return
        top = int(self.scroll_y)
        visible = range(top // PAGE, (top + self.size.height) // PAGE + 1)
        pages = sorted(p for p in self._wanted if p in visible
                       and p not in self._pending and p not in self._pages)
        self._wanted.clear()
        if pages:
            self._pending.update(pages)
            gen, flt, total, app = self._gen, self.filter, self.total, self.app
            if flt.overdue_only:
                flt = flt.with_(now=app.ctx.now())
            self.run_worker(lambda: self._fetch_pages(app, gen, flt, total, pages),
                            thread=True, group="pages", exit_on_error=False)

    def _fetch_pages(self, app, gen: int, flt: QueueFilter, total: int, pages: list[int]) -> None:
        got = in_db(lambda: {p: queries.window(flt, p * PAGE, PAGE, total=total) for p in pages})
        app.call_from_thread(self._fetched, gen, got)

    def _fetched(self, gen: int, got: dict[int, list[QueueRow]]) -> None:
        self._pending.difference_update(got)
        if gen != self._gen:
            return
        self.queries_issued += len(got)
        for p, rows in got.items():
            self._store(p, rows)
        self.refresh()
        self._announce()

    def row_at(self, index: int) -> QueueRow | None:
        page = self._pages.get(index // PAGE)
        if page is None:
            return None
        self._pages.move_to_end(index // PAGE)
        offset = index % PAGE
        return page[offset] if offset < len(page) else None

    @property
    def selected(self) -> QueueRow | None:
        if not self.total:
            return None
        return self.row_at(self.cursor)

    def visible_ids(self) -> set[int]:
        top = int(self.scroll_y)
        ids = set()
        for i in range(top, top + self.size.height):
            row = self.row_at(i)
            if row is not None:
                ids.add(row.id)
        return ids

    # ------------------------------------------------------------------ cursor

    def action_cursor(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        if self.total:
            step = max(1, self.size.height - 1) * direction
            self.cursor = max(0, min(self.total - 1, self.cursor + step))

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = 0 if where == 0 else self.total - 1

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Opened(self, row))

    def watch_cursor(self, cursor: int) -> None:
        height = max(1, self.size.height)
        top = int(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self, self.selected))

    def on_resize(self) -> None:
        if self.total is not None:
            self.virtual_size = Size(self.size.width, self.total)

    def on_click(self, event) -> None:
        index = int(self.scroll_y) + event.y
        if self.total and 0 <= index < self.total:
            self.cursor = index

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        index = int(self.scroll_y) + y
        if self.total is None or index >= self.total:
            if y == 0:
                message = t("ui.list.loading") if self.total is None else t("ui.list.empty")
                return self._strip(Text(message, style="italic"), width, base)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._want(index // PAGE)
            dim = self.get_component_rich_style("itemlist--dim")
            return self._strip(Text("  …", style=dim), width, base)
        app = self.app
        now = app.ctx.now()
        flashing = app.is_flashing(row.kind, row.id)
        # Toolong's lesson: a line is drawn once and reused until something it shows
        # changes — the row (version), the width, cursor/flash/alert marks, the countdown.
        key = (row.id, row.version, width, index == self.cursor and (1 + self.has_focus), flashing,
               row.id in app.alert_ids.get(row.kind, ()), fmt.countdown(row.deadline_at, now),
               app.theme)
        strip = self._lines.get(key)
        if strip is not None:
            self._lines.move_to_end(key)
            return strip
        text = self.format_row(row, width)
        style = base
        if flashing:  # just changed on another console
            style = base + self.get_component_rich_style("itemlist--flash")
        if index == self.cursor:
            style = base + self.get_component_rich_style("itemlist--cursor")
        strip = self._strip(text, width, style)
        self._lines[key] = strip
        if len(self._lines) > LINE_CACHE:
            self._lines.popitem(last=False)
        return strip

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        segments = list(text.render(self.app.console, end=""))
        strip = Strip(segments).adjust_cell_length(width)
        return Strip(Segment.apply_style(strip, style)) if style else strip

    def format_row(self, row: QueueRow, width: int) -> Text:
        ctx = self.app.ctx
        now = ctx.now()
        line = Text(no_wrap=True, end="")
        closed = row.closed_at is not None
        for col in columns(row.kind, width):
            if col.name == "mark":
                cell = Text()
                marked = row.id in self.app.alert_ids.get(row.kind, ())  # unacknowledged alert
                cell.append("!" if marked else " ", style="bold red")
                cell.append("●" if not row.acked and not closed else " ", style="bold #ffaf00")
            elif col.name == "ref":
                cell = fmt.fit(row.ref, col.width)
            elif col.name == "sev":
                cell = fmt.badge(row.kind, row.severity, col.width)
            elif col.name == "title":
                cell = fmt.fit(row.title or "", col.width)
            elif col.name == "status":
                cell = fmt.fit(fmt.status_label(row.kind, row.status), col.width)
            elif col.name == "where":
                where = row.where if row.kind != "report" else row.step_name
                if row.kind == "supervision" and not where:
                    where = row.step_name
                cell = fmt.fit(where, col.width)
            elif col.name == "extra":
                cell = fmt.fit(_extra(row), col.width)
            else:  # countdown to the next deadline
                if closed:
                    cell = fmt.fit(fmt.local(row.closed_at, ctx.settings.tz, "%m-%d"), col.width,
                                   right=True)
                else:
                    cell = fmt.fit(fmt.countdown(row.deadline_at, now), col.width, right=True)
                    band = rules.urgency_band(ctx.settings, row.kind, row.deadline_at, now)
                    cell.stylize(fmt.BAND_STYLE[band])
            if closed and col.name not in ("sev", "left"):
                cell.stylize("dim")
            line.append_text(cell)
            line.append(" ")
        return line


def _extra(row: QueueRow) -> str:
    if row.kind == "report":
        dead, injured = row.extra.get("dead") or 0, row.extra.get("injured") or 0
        return t("ui.list.casualties", dead=dead, injured=injured) if dead or injured else ""
    if row.kind == "work_order":
        return row.extra.get("caller") or ""
    return row.extra.get("source") or ""


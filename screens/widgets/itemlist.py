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
from collections.abc import Iterator

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

from console import queries, rules, search
from console.i18n import t
from console.queries import QueueFilter, QueueRow
from screens import fmt
from screens.dbwork import guarded
from screens.widgets.columns import cell_text, columns, fit_cell, style_of

PAGE = 50
MAX_PAGES = 40  # LRU: at most 2,000 rows in memory whatever the table size
LINE_CACHE = 400  # rendered lines kept (a few screens' worth)


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
        """The count is in: ``capped`` means "more than search.CAP" (shown "999+"),
        ``partial`` that a 1–2 character search looked at the queue's start only."""

        def __init__(self, item_list: ItemList, total: int, capped: bool = False,
                     partial: bool = False) -> None:
            super().__init__()
            self.item_list, self.total = item_list, total
            self.capped, self.partial = capped, partial

    def __init__(self, flt: QueueFilter, *, id: str | None = None, autoload: bool = True) -> None:
        super().__init__(id=id)
        self.autoload = autoload  # False: read on start(), once the visible queue painted
        self.started = False
        self.filter = flt
        self.total: int | None = None
        self.counted: int | None = None  # the count line's number: None while counting
        self.capped = self.partial = False  # see Counted
        self._pages: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: set[int] = set()
        self._fetch_scheduled = False
        self._gen = 0
        self.rows_fetched = 0
        self.queries_issued = 0
        self._lines: OrderedDict[tuple, Strip] = OrderedDict()  # rendered lines (LRU)
        self.marks: dict[int, QueueRow] = {}  # marked rows as shown (bulk actions, storms)
        self.lines_drawn = 0  # lines rendered afresh (not from self._lines): work done
        self._drawn: dict[int, tuple] = {}  # screen line → the key it was last drawn with

    @property
    def kind(self) -> str:
        return self.filter.kind

    # ------------------------------------------------------------------ data

    def on_mount(self) -> None:
        self.app.published.subscribe(self, self._published)
        if self.autoload:
            self.start()

    def _published(self, published) -> None:
        """The app says what changed: re-read if it is this queue, repaint otherwise."""
        if published.reconnected or published.touches(self.kind):
            if self.started:
                self.reload()
        elif published.alerts:
            self.refresh()  # marks move without a read
        elif published.tick and self.is_on_screen:
            self.refresh_changed()  # countdowns: only the lines whose text moved

    def loaded_rows(self) -> Iterator[QueueRow]:
        """The rows this list holds now (what the officer can see or just saw)."""
        for rows in list(self._pages.values()):
            yield from rows

    def find_loaded(self, ref: str) -> QueueRow | None:
        return next((r for r in self.loaded_rows() if r.ref == ref), None)

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
        self.total = self.counted = None
        self.capped = self.partial = False
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._start_load(None)
        self.refresh()

    def reload(self) -> None:
        """Same question, data changed: re-read what is shown, keep the cursor on its item."""
        self._gen += 1
        self._pending.clear()
        self._start_load(self.selected)

    def _start_load(self, follow: QueueRow | None) -> None:
        # the geometry is read here, on the event loop: from the worker thread it would lay
        # the screen out off the loop (LookupError on active_app, issue 9 §1)
        view = (max(self.size.height, 1), self.cursor, int(self.scroll_y))
        self._load(self._gen, self.filter, follow, self.app, view)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, gen: int, flt: QueueFilter, follow: QueueRow | None, app,
              view: tuple[int, int, int]) -> None:
        # ``app`` is passed in: a worker thread has no active-app context of its own
        flt = flt.with_(now=app.ctx.now()) if flt.overdue_only else flt
        height, anchor0, scroll = view

        if follow is None and anchor0 == 0 and scroll == 0:
            # a new question: paint the first page at once, count (maybe a long walk) after
            first_rows = guarded(app, "queue", queries.window, flt, 0, PAGE)
            if first_rows is None or get_current_worker().is_cancelled:
                return
            app.call_from_thread(self._loaded, gen, len(first_rows), None, {0: first_rows}, 1,
                                 final=False)

        searching = bool(flt.search.strip())

        def read() -> tuple[int, int | None, dict[int, list[QueueRow]], int, bool, bool]:
            issued = 1
            # a search is counted up to search.CAP + 1 ("999+"), as the header counts
            total = queries.count(flt, cap=search.CAP if searching else None)
            capped = searching and total > search.CAP
            partial = searching and queries.short_partial(flt)
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
            for p in range(first, last + 1):  # a capped total is no end to read back from
                pages[p] = queries.window(flt, p * PAGE, PAGE, total=None if capped else total)
                issued += 1
            return total, cursor, pages, issued, capped, partial

        result = guarded(app, "queue", read)
        if result is not None and not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, gen, *result)

    def _loaded(self, gen: int, total: int, cursor: int | None,
                pages: dict[int, list[QueueRow]], issued: int, capped: bool = False,
                partial: bool = False, final: bool = True) -> None:
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
            self.counted, self.capped, self.partial = total, capped, partial
            self.post_message(self.Counted(self, total, capped, partial))
        self._prefetch()

    def _store(self, page: int, rows: list[QueueRow]) -> None:
        self.rows_fetched += len(rows)
        self._pages[page] = rows
        for r in rows if self.marks else ():  # a mark carries the version now shown
            if r.id in self.marks:
                self.marks[r.id] = r
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _want(self, page: int) -> None:
        self._wanted.add(page)
        if not self._fetch_scheduled:
            self._fetch_scheduled = True
            self.call_later(self._fetch_wanted)

    def _span(self) -> tuple[range, range]:
        """The pages on screen, and those to hold: one screen either side as well, so
        PageUp/PageDown and the cursor keys paint from memory."""
        height = max(1, self.size.height)
        top = int(self.scroll_y)
        last = max(0, (self.total or 1) - 1) // PAGE
        shown = range(top // PAGE, min(last, (top + height) // PAGE) + 1)
        return shown, range(max(0, (top - height) // PAGE),
                            min(last, (top + 2 * height) // PAGE) + 1)

    def _prefetch(self) -> None:
        if self.total:
            for p in self._span()[1]:
                if p not in self._pages and p not in self._pending:
                    self._want(p)

    def _fetch_wanted(self) -> None:
        """Fetch the wanted pages still near the screen (a fast scroll skips what it
        passed), those on screen first."""
        self._fetch_scheduled = False
        if self.total is None:
            return
        shown, near = self._span()
        pages = sorted((p for p in self._wanted if p in near and p not in self._pending
                        and p not in self._pages), key=lambda p: (p not in shown, p))
        self._wanted.clear()
        if pages:
            self._pending.update(pages)
            gen, flt, app = self._gen, self.filter, self.app
            total = None if self.capped else self.total
            if flt.overdue_only:
                flt = flt.with_(now=app.ctx.now())
            # the neighbours' edge keys: a page next to a held one is a keyset seek
            edges = {p: (rows[0].key, rows[-1].key) for p, rows in self._pages.items()
                     if len(rows) == PAGE}
            self.run_worker(lambda: self._fetch_pages(app, gen, flt, total, pages, edges),
                            thread=True, group="pages", exit_on_error=False)

    def _fetch_pages(self, app, gen: int, flt: QueueFilter, total: int | None,
                     pages: list[int], edges: dict) -> None:
        def read() -> dict[int, list[QueueRow]]:
            got: dict[int, list[QueueRow]] = {}
            for p in pages:
                if p - 1 in edges:
                    got[p] = queries.after(flt, edges[p - 1][1], PAGE)
                elif p + 1 in edges:
                    got[p] = queries.before(flt, edges[p + 1][0], PAGE)
                else:
                    got[p] = queries.window(flt, p * PAGE, PAGE, total=total)
                if len(got[p]) == PAGE:
                    edges[p] = (got[p][0].key, got[p][-1].key)
            return got

        got = guarded(app, "queue page", read)
        # posted, not call_from_thread: the worker does not wait for the event loop
        self.post_message(self.Fetched(gen, got if got is not None else {}, pages))

    class Fetched(Message):
        def __init__(self, gen: int, got: dict[int, list[QueueRow]], asked: list[int]) -> None:
            super().__init__()
            self.gen, self.got, self.asked = gen, got, asked

    def on_item_list_fetched(self, event: Fetched) -> None:
        event.stop()
        self._fetched(event.gen, event.got, event.asked)

    def _fetched(self, gen: int, got: dict[int, list[QueueRow]], asked: list[int]) -> None:
        self._pending.difference_update(asked)  # failed pages are asked for again when shown
        if gen != self._gen:
            return
        self.queries_issued += len(got)
        shown = self._span()[0]
        for p, rows in got.items():
            self._store(p, rows)
        if any(p in shown for p in got):  # a page off screen changes nothing drawn
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

    # ------------------------------------------------------------------ marks (storms)

    def toggle_mark(self) -> QueueRow | None:
        """Mark or unmark the row under the cursor; the cursor moves on to the next."""
        row = self.selected
        if row is None:
            return None
        if self.marks.pop(row.id, None) is None:
            self.marks[row.id] = row
        self.action_cursor(1)
        self.refresh()
        return row

    def set_marks(self, rows: list[QueueRow]) -> None:
        self.marks = {r.id: r for r in rows}
        self.refresh()

    def clear_marks(self) -> int:
        n = len(self.marks)
        self.marks = {}
        self.refresh()
        return n

    def marked_rows(self) -> list[QueueRow]:
        """The marked rows in queue order, as they were shown when marked."""
        return sorted(self.marks.values(), key=lambda r: r.key)

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
        self._prefetch()

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

    @property
    def content_width(self) -> int:
        """The width rows are drawn in: without the vertical scrollbar (which took the last
        column's two last characters: ``-17d02`` for ``-17d02h``)."""
        return self.scrollable_content_region.width or self.size.width

    def render_line(self, y: int) -> Strip:
        width = self.content_width
        index = int(self.scroll_y) + y
        self._drawn.pop(y, None)
        if self.total is None or index >= self.total:
            base = self.rich_style
            if y == 0:
                message = t("ui.list.loading") if self.total is None else t("ui.list.empty")
                return self._strip(Text(message, style="italic"), width, base)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._want(index // PAGE)
            dim = self.get_component_rich_style("itemlist--dim")
            return self._strip(Text("  …", style=dim), width, self.rich_style)
        key = self._line_key(index, row, width)
        self._drawn[y] = key
        flashing, countdown, band = key[4], key[6], key[7]
        strip = self._lines.get(key)
        if strip is not None:
            self._lines.move_to_end(key)
            return strip
        style = self.rich_style
        if flashing:  # just changed on another console
            style = style + self.get_component_rich_style("itemlist--flash")
        if index == self.cursor:
            style = style + self.get_component_rich_style("itemlist--cursor")
        strip = Strip(self.row_segments(row, width, style, countdown, band), width)
        self.lines_drawn += 1
        self._lines[key] = strip
        if len(self._lines) > LINE_CACHE:
            self._lines.popitem(last=False)
        return strip

    def _line_key(self, index: int, row: QueueRow, width: int) -> tuple:
        """Everything a line shows.  Toolong's lesson: a line is drawn once and reused
        until something it shows changes — the row (version), the width, cursor/flash/
        alert marks, the countdown and its band.  A hit costs a dict look-up."""
        app = self.app
        countdown, band = self._countdown(row)
        return (row.id, row.version, width, index == self.cursor and (1 + self.has_focus),
                app.is_flashing(row.kind, row.id), row.id in app.alert_ids.get(row.kind, ()),
                countdown, band, app.theme, row.id in self.marks)

    def refresh_changed(self) -> None:
        """Repaint only the lines on screen whose key moved since they were drawn: an idle
        console wrote every visible row every second (56 kB/s over SSH for a clock)."""
        width, top = self.content_width, int(self.scroll_y)
        for y in range(self.size.height):
            row = self.row_at(top + y) if self.total and top + y < self.total else None
            # (a whole line: Textual writes whole lines even for a smaller region)
            if row is not None and self._drawn.get(y) != self._line_key(top + y, row, width):
                self.refresh_line(top + y)

    def _countdown(self, row: QueueRow) -> tuple[str, str]:
        """The row's countdown now and its colour band ("" and "ok" once closed)."""
        now = self.app.ctx.now()
        countdown = fmt.countdown(row.deadline_at, now) if row.closed_at is None else ""
        band = (rules.urgency_band(self.app.ctx.settings, row.kind, row.deadline_at, now)
                if countdown else "ok")
        return countdown, band

    def row_text(self, row: QueueRow, width: int | None = None) -> str:
        """The row as the list draws it now, as plain text (what an officer reads)."""
        countdown, band = self._countdown(row)
        return "".join(seg.text for seg in self.row_segments(
            row, width or self.content_width, Style(), countdown, band))

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        segments = list(text.render(self.app.console, end=""))
        strip = Strip(segments).adjust_cell_length(width)
        return Strip(Segment.apply_style(strip, style)) if style else strip

    def row_segments(self, row: QueueRow, width: int, base: Style, countdown: str,
                     band: str) -> list[Segment]:
        """One row as segments, straight from strings (what ``fmt.fit``/``badge`` and a
        rich Text drew before, at a fraction of the objects): the cells, one space
        between them, everything on ``base``; a closed row dimmed except severity and
        date."""
        closed = row.closed_at is not None
        out: list[Segment] = []

        def add(text: str, spec: str = "", dim: bool = closed) -> None:
            out.append(Segment(text, style_of(base, spec, dim)))

        for col in columns(row.kind, width):
            name, w = col.name, col.width
            if name == "mark":
                if row.id in self.marks:  # marked for a bulk action (storms)
                    add("✓", "bold reverse green")
                else:
                    add("!" if row.id in self.app.alert_ids.get(row.kind, ()) else " ", "bold red")
                add("●" if not row.acked and not closed else " ", "bold #ffaf00")
            elif name in ("sev", "cadence"):
                add(fit_cell(fmt.severity_label(row.kind, row.severity), w, "center"),
                    fmt.SEVERITY_STYLE[row.kind].get(row.severity, ""), dim=False)
            elif name == "title" and row.damaged:
                add(fit_cell(f"{t('health.damaged')} {row.title or ''}", w), "bold red")
            elif name == "left" and closed:
                add(fit_cell(fmt.local(row.closed_at, self.app.ctx.settings.tz, "%m-%d"), w,
                         "right"), dim=False)
            elif name == "left":
                add(fit_cell(countdown, w, "right"), fmt.BAND_STYLE[band])
            else:
                add(fit_cell(cell_text(row, name), w))
            out.append(Segment(" ", base))
        return Segment.adjust_line_length(out, width, style=base)

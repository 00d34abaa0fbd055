"""A small builder that lays out official forms and notices on A4 pages.

Government forms share a handful of shapes: a centred title, a document number, a ruled
two- or four-column table, body paragraphs, a signature/seal block. ``Sheet`` places
those with a running cursor and starts a new page when one is full.
"""

from __future__ import annotations

from datetime import datetime

from .layout import PAGE_W, Doc, Page, Rule, Seal, Text, wrap

LEFT, RIGHT = 22.0, PAGE_W - 22.0
BOTTOM = 270.0


class Sheet:
    def __init__(self, title: str, author: str, created: datetime, subject: str = "") -> None:
        self.doc = Doc(title=title, author=author, created=created, subject=subject)
        self.page = Page()
        self.doc.pages.append(self.page)
        self.y = 28.0

    def new_page(self) -> None:
        self.page = Page()
        self.doc.pages.append(self.page)
        self.y = 28.0

    def _room(self, need: float) -> None:
        if self.y + need > BOTTOM:
            self.new_page()

    def text(self, x: float, y: float, s: str, size: float = 10.5, align: str = "left",
             color: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.page.items.append(Text(x, y, s, size, align, color))

    def title(self, s: str, size: float = 18, sub: str | None = None) -> None:
        self._room(20)
        self.y += size * 0.35
        self.text(PAGE_W / 2, self.y, s, size, "center")
        self.y += size * 0.45
        if sub:
            self.text(PAGE_W / 2, self.y + 2, sub, 10.5, "center")
            self.y += 7
        self.y += 4

    def line_pair(self, left: str, right: str = "", size: float = 10.5) -> None:
        self._room(8)
        self.text(LEFT, self.y, left, size)
        if right:
            self.text(RIGHT, self.y, right, size, "right")
        self.y += size * 0.55

    def para(self, s: str, size: float = 11.5, indent: bool = True) -> None:
        lines = wrap(("　　" if indent else "") + s, RIGHT - LEFT, size)
        for line in lines:
            self._room(size * 0.6)
            self.text(LEFT, self.y, line, size)
            self.y += size * 0.6
        self.y += 1.5

    def gap(self, mm: float) -> None:
        self.y += mm

    def table(self, rows: list[tuple[str, ...]], widths: tuple[float, ...] | None = None,
              size: float = 10.5, row_h: float = 9.0) -> None:
        """A fully ruled table; each row a tuple of cells (labels and values alternate)."""
        ncols = max(len(r) for r in rows)
        total = RIGHT - LEFT
        widths = widths or tuple(total / ncols for _ in range(ncols))
        scale = total / sum(widths)
        widths = tuple(w * scale for w in widths)
        for row in rows:
            cells = list(row)
            # a short row's last cell spans the remaining columns
            row_widths = list(widths[: len(cells) - 1]) + [sum(widths[len(cells) - 1 :])]
            lines_per_cell = [wrap(c, w - 3, size) or [""] for c, w in zip(cells, row_widths, strict=True)]
            h = max(row_h, max(len(ls) for ls in lines_per_cell) * size * 0.5 + 4)
            self._room(h + 2)
            top = self.y
            self.page.items.append(Rule(LEFT, top, RIGHT, top))
            x = LEFT
            for lines, w in zip(lines_per_cell, row_widths, strict=True):
                self.page.items.append(Rule(x, top, x, top + h))
                ty = top + (h - len(lines) * size * 0.5) / 2 + size * 0.4
                for ln in lines:
                    self.text(x + 1.5, ty, ln, size)
                    ty += size * 0.5
                x += w
            self.page.items.append(Rule(RIGHT, top, RIGHT, top + h))
            self.page.items.append(Rule(LEFT, top + h, RIGHT, top + h))
            self.y = top + h
        self.y += 5

    def signature(self, who: str, when: datetime, seal: str | None = None) -> None:
        """The issuing block at the right: organisation, date, and a seal over them."""
        self._room(40)
        self.y += 8
        self.text(RIGHT - 10, self.y, who, 11.5, "right")
        self.y += 8
        self.text(RIGHT - 10, self.y, f"{when.year}年{when.month}月{when.day}日", 11.5, "right")
        if seal:
            self.page.items.append(Seal(RIGHT - 38, self.y - 8, 19, seal))
        self.y += 10

    def footer_note(self, s: str) -> None:
        self.text(LEFT, 285, s, 8)

    def finish(self) -> Doc:
        total = len(self.doc.pages)
        if total > 1:
            for n, page in enumerate(self.doc.pages, 1):
                page.items.append(Text(PAGE_W / 2, 290, f"第 {n} 页 共 {total} 页", 9, "center"))
        return self.doc

"""Active content in a PDF's object graph, found by a bounded walk from the catalogue.

Names trees, OpenAction, AA, annotations and their ``/Next`` action chains are all
reached; the walk counts objects and depth so a hostile file cannot make it run forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

MAX_OBJECTS = 200_000

# Action types (/S) and what they mean for archival safety.
HIGH_RISK = frozenset({"JavaScript", "Launch", "EmbeddedFile", "RichMedia", "XFA"})
EXTERNAL = frozenset({"SubmitForm", "ImportData", "GoToR", "GoToE"})
_ACTIONS = HIGH_RISK | EXTERNAL | {"URI"}

ACTIVE_NAMES = {
    "JavaScript": "JavaScript 脚本",
    "Launch": "启动外部程序（Launch）",
    "EmbeddedFile": "嵌入文件",
    "RichMedia": "富媒体（RichMedia/Flash）",
    "XFA": "XFA 动态表单",
    "SubmitForm": "表单提交（SubmitForm）",
    "ImportData": "导入外部数据（ImportData）",
    "GoToR": "跳转外部文档（GoToR）",
    "GoToE": "跳转嵌入文档（GoToE）",
    "URI": "外部链接（URI）",
}


def resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def name_of(obj: Any) -> str | None:
    obj = resolve(obj)
    return str(obj)[1:] if isinstance(obj, NameObject) else None


class Walker:
    """Bounded walk over the object graph from the catalogue, noting active content."""

    def __init__(self, limit: int | None = None, max_depth: int | None = None) -> None:
        self.limit = limit or MAX_OBJECTS
        self.max_depth = max_depth
        self.too_deep = False
        self.seen: set[tuple[int, int]] = set()
        self.found: dict[str, int] = {}
        self.signatures = 0
        self.visited = 0
        self.complete = True

    def _note(self, kind: str) -> None:
        self.found[kind] = self.found.get(kind, 0) + 1

    def _inspect(self, d: DictionaryObject) -> None:
        keys = set(d.keys())
        s = name_of(d.get("/S")) if "/S" in keys else None
        if s in _ACTIONS:
            self._note(s)
        elif "/JS" in keys:
            self._note("JavaScript")
        typ = name_of(d.get("/Type")) if "/Type" in keys else None
        sub = name_of(d.get("/Subtype")) if "/Subtype" in keys else None
        if typ == "EmbeddedFile" or "/EmbeddedFiles" in keys or sub == "FileAttachment":
            self._note("EmbeddedFile")
        elif typ == "Filespec" and "/EF" in keys:
            self._note("EmbeddedFile")
        if sub == "RichMedia" or "/RichMediaContent" in keys:
            self._note("RichMedia")
        if "/XFA" in keys:
            self._note("XFA")
        if "/JavaScript" in keys and typ != "Action":  # the Names tree entry
            self._note("JavaScript")
        if name_of(d.get("/FT")) == "Sig" and "/V" in keys and resolve(d.get("/V")) is not None:
            self.signatures += 1

    def _children(self, obj: Any) -> Iterator[Any]:
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in ("/Parent", "/P"):  # back links; the walk reaches them otherwise
                    continue
                yield value
        elif isinstance(obj, ArrayObject):
            yield from obj

    def walk(self, root: Any) -> None:
        stack: list[tuple[Any, int]] = [(root, 0)]
        while stack:
            obj, depth = stack.pop()
            if self.max_depth is not None and depth > self.max_depth:
                self.complete, self.too_deep = False, True
                return
            if isinstance(obj, IndirectObject):
                ref = (obj.idnum, obj.generation)
                if ref in self.seen:
                    continue
                self.seen.add(ref)
                self.visited += 1
                if self.visited > self.limit:
                    self.complete = False
                    return
                try:
                    obj = obj.get_object()
                except Exception:  # noqa: BLE001 - a broken object is reported elsewhere
                    continue
            if isinstance(obj, DictionaryObject):
                self._inspect(obj)
            if isinstance(obj, DictionaryObject | ArrayObject):
                stack.extend((child, depth + 1) for child in self._children(obj))

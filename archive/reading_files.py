"""The reading room's content services: one person's or unit's file (一人一档), one item
as a reader may see it, and the bytes of its files — read-only from the AIP in the store.

Why here: whether a reader may open an item (classification, personal information,
approved access requests) and the audit-log entry of every view and download must be the
same for every page and the API, and views hold no SQL or file I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from dangan.packages.digests import sha256_hex
from dangan.packages.formats.ofd import read_ofd
from dangan.packages.formats.ofd_render import OfdRenderError, render_page

from . import audit_log, catalogue
from .access_requests import RequestRequired, covering_request, needs_request
from .accounts import Principal
from .errors import NotFound, StoreError
from .fonts import cjk_font_path
from .instance import Archive
from .models import Item, Party
from .permissions import visible_classifications
from .reading_room import version_entry

_NOT_FOUND = "找不到该档案，或您无权查阅"


@dataclass(frozen=True)
class ItemAccess:
    record: dict[str, Any]  # catalogue.item_to_dict
    needs_request: bool  # content needs an approved request for this reader
    request_id: int | None  # the approved, current request that covers it
    unmasked: bool  # full ID numbers may be shown (role, or a request as the purpose)

    @property
    def may_open(self) -> bool:
        return not self.needs_request or self.request_id is not None


@dataclass(frozen=True)
class FileContent:
    data: bytes
    media_type: str
    filename: str
    title: str
    request_id: int | None


def _access(s: Any, item: Item, by: Principal) -> ItemAccess | None:
    """None when the reader may not even know the item exists."""
    perms = by.permissions
    need = needs_request(item, perms)
    req = covering_request(s, item, by.login) if need else None
    if item.security_classification not in visible_classifications(by.roles) and req is None:
        return None
    return ItemAccess(catalogue.item_to_dict(item), need, req,
                      "record.unmask" in perms or req is not None)


def open_item(archive: Archive, by: Principal, ref: str) -> ItemAccess:
    """An item (AIP id, archival code or case id) as ``by`` may see it; NotFound otherwise."""
    with archive.db.session() as s:
        try:
            item = catalogue.lookup(s, ref).item
        except NotFound:
            raise NotFound(_NOT_FOUND) from None
        acc = _access(s, item, by)
        if acc is None:
            raise NotFound(_NOT_FOUND)
        return acc


def case_under_request(archive: Archive, by: Principal, ref: str) -> ItemAccess:
    """The case page's record of an item the reader's classifications hide (``restricted``
    for a clerk), when an approved, current request of theirs covers it; NotFound else.

    The view is an ``aip:access`` entry (``mode: case``) naming the request. Items the
    reader may see anyway keep the plain path (``reading_room.case_record``). The versions
    listed are those the reader may open: a request for the case covers every version of
    it (a correction keeps the case), one for a single AIP that AIP only.
    """
    with archive.db.session() as s:
        try:
            found = catalogue.lookup(s, ref)
        except NotFound:
            raise NotFound(_NOT_FOUND) from None
        acc = _access(s, found.item, by)
        if acc is None or acc.request_id is None:
            raise NotFound(_NOT_FOUND)
        acc.record["matched_by"] = found.matched_by
        acc.record["versions"] = []
        for v in found.versions:
            shown = acc if v.aip_id == found.item.aip_id else _access(s, v, by)
            if shown is None:
                continue
            acc.record["versions"].append({**version_entry(v), "request": shown.request_id})
    audit_log.record(archive.db, actor=by.actor, action="aip:access",
                     object_id=acc.record["aip_id"], object_digest=acc.record["sha256"],
                     details={"mode": "case", "request": acc.request_id})
    return acc


def versions_under_request(archive: Archive, by: Principal, ref: str) -> list[dict[str, Any]]:
    """The versions of ``ref``'s case that the reader's classifications hide but an
    approved, current request of theirs covers: a case page the reader sees by role
    (an earlier, internal version) lists them too, marked with the request, as
    ``case_under_request`` does. Listing opens nothing: the version's own page does,
    and logs it."""
    if "record.restricted" in by.permissions:  # sees every classification: nothing hidden
        return []
    visible = visible_classifications(by.roles)
    out: list[dict[str, Any]] = []
    with archive.db.session() as s:
        try:
            found = catalogue.lookup(s, ref)
        except NotFound:
            return []
        for v in found.versions:
            if v.security_classification in visible:
                continue
            shown = _access(s, v, by)
            if shown is not None and shown.request_id is not None:
                out.append(version_entry(v, shown.request_id))
    return out


def list_versions_under_request(archive: Archive, by: Principal, ref: str,
                                record: dict[str, Any]) -> None:
    """Add ``versions_under_request`` to the version list of a record seen by role."""
    covered = versions_under_request(archive, by, ref)
    if covered:
        record["versions"] = sorted(record["versions"] + covered, key=lambda v: v["version"])


def party_number(archive: Archive, by: Principal, ref: str, index: int) -> str:
    """The ID number of the ``index``-th party of a visible item (links never carry IDs)."""
    parties = open_item(archive, by, ref).record["parties"]
    if not 0 <= index < len(parties):
        raise NotFound("该档案没有这一当事人")
    return str(parties[index]["id_number"])


def hit_parties(archive: Archive, by: Principal,
                aip_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The parties of search hits, each with its index on the case (the person page's key,
    so links never carry an ID number), once per ID number; items the reader may not see
    by classification yield none. One query for the page's hits."""
    if not aip_ids:
        return {}
    visible = visible_classifications(by.roles)
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    with archive.db.session() as s:
        rows = s.execute(select(Party.aip_id, Party.name, Party.kind, Party.id_type,
                                Party.id_number)
                         .join(Item, Item.aip_id == Party.aip_id)
                         .where(Party.aip_id.in_(aip_ids),
                                Item.security_classification.in_(visible))
                         .order_by(Party.aip_id, Party.seq)).all()
    index: dict[str, int] = {}
    for aip_id, name, kind, id_type, number in rows:
        i = index[aip_id] = index.get(aip_id, -1) + 1
        if (aip_id, number) in seen:
            continue
        seen.add((aip_id, number))
        out.setdefault(aip_id, []).append({"index": i, "name": name, "kind": kind,
                                           "id_type": id_type, "id_number": number})
    return out


def timeline(archive: Archive, by: Principal, number: str) -> dict[str, Any]:
    """Every visible item with a party of ID ``number``, oldest first (一人一档 / 一企一档)."""
    with archive.db.session() as s:
        ids = list(s.scalars(select(Party.aip_id).where(Party.id_number == number).distinct()))
        items = [catalogue.get_item(s, i) for i in ids]
        rows, names, id_type = [], set(), None
        for item in sorted(items, key=lambda i: (i.completed_at, i.version)):
            acc = _access(s, item, by)
            if acc is None:
                continue
            party = next(p for p in item.parties if p.id_number == number)
            names.add(party.name)
            id_type = id_type or party.id_type
            rows.append(acc)
    if not rows:
        raise NotFound("找不到该证件号码的档案，或您无权查阅")
    # the number is shown whole when every listed item may show it (role, or a request)
    return {"number": number, "names": sorted(names), "id_type": id_type, "items": rows,
            "unmasked": all(a.unmasked for a in rows)}


def _payload(archive: Archive, item: dict[str, Any], file_id: str) -> tuple[dict[str, Any], Path]:
    f = next((f for f in item["files"] if f["id"] == file_id), None)
    if f is None:
        raise NotFound("该档案中没有这份文件")
    root = archive.store.path(item["aip_id"]).resolve()
    path = (root / f["path"]).resolve()
    if root not in path.parents:
        raise StoreError("文件路径超出信息包，拒绝读取", [{"path": f["path"]}])
    return f, path


def read_file(archive: Archive, by: Principal, ref: str, file_id: str, *,
              mode: str) -> tuple[FileContent, Path]:
    """The stored bytes of one file (checked against the catalogue's SHA-256), logged as an
    ``aip:access`` entry with ``mode`` (view/download/thumbnail) and the request it used."""
    acc = open_item(archive, by, ref)
    if not acc.may_open:
        raise RequestRequired("查阅该档案的内容须先提出查阅申请并经档案管理员批准",
                              [{"aip_id": acc.record["aip_id"]}])
    f, path = _payload(archive, acc.record, file_id)
    data = path.read_bytes()
    if sha256_hex(data) != f["sha256"]:
        raise StoreError("文件与编目摘要不符（可能已损坏），请通知档案管理员做固定性检查",
                         [{"aip_id": acc.record["aip_id"], "file": file_id}])
    audit_log.record(archive.db, actor=by.actor, action="aip:access",
                     object_id=acc.record["aip_id"], object_digest=f["sha256"],
                     details={"file": file_id, "mode": mode, "request": acc.request_id})
    name = Path(f["path"]).name
    return FileContent(data, f["media_type"] or f["declared_media_type"], name, f["title"],
                       acc.request_id), path


def ofd_pages(path: Path) -> list[str]:
    """The text of each OFD page (the viewer shows it under each page's image)."""
    return read_ofd(path).texts


def ofd_page_image(archive: Archive, by: Principal, ref: str, file_id: str,
                   number: int) -> tuple[Image.Image, FileContent, list[str]]:
    """Page ``number`` of an OFD file drawn as an image (logged ``aip:access`` mode
    ``page``); ``OfdRenderError`` for a page that cannot or must not be drawn."""
    c, path = read_file(archive, by, ref, file_id, mode="page")
    if c.media_type != "application/ofd":
        raise OfdRenderError("这份文件不是 OFD 版式文件")
    page = render_page(path, number, font_path=cjk_font_path())
    return page.image, c, page.problems

"""The reading room: one person's or unit's file (一人一档), the viewer, watermarked downloads.

Items that need an access request send the reader to the request form instead; every
view and download is logged by the service (``aip:access`` with the request it used).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for

from dangan.archive import reading_files, watermark
from dangan.archive.access_requests import RequestRequired
from dangan.archive.timeutil import local, utcnow

from .access import archive, principal, requires

bp = Blueprint("reading", __name__)

# pdf.js ships ES modules: browsers refuse them under nosniff unless served as JavaScript.
mimetypes.add_type("text/javascript", ".mjs")

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")


def _to_request(ref: str) -> Any:
    flash("该档案含受控内容或个人信息：请先提出查阅申请，经档案管理员批准后再查阅", "error")
    return redirect(url_for("requests.index", scope="item", target=ref))


def _mark(request_id: int | None) -> str:
    p = principal()
    text = f"{p.display_name}（{p.login}） {local(utcnow())} 查阅专用"
    return text + (f" 申请#{request_id}" if request_id else "")


@bp.route("/person/<ref>/<int:index>")
@requires("record.read")
def person(ref: str, index: int) -> Any:
    """一人一档 (resident ID) or the unit's file (credit code) of a party of ``ref``."""
    arch, p = archive(), principal()
    number = reading_files.party_number(arch, p, ref, index)
    t = reading_files.timeline(arch, p, number)
    return render_template("person.html", t=t)


@bp.route("/view/<ref>/<file_id>")
@requires("record.read")
def view(ref: str, file_id: str) -> Any:
    arch, p = archive(), principal()
    acc = reading_files.open_item(arch, p, ref)
    if not acc.may_open:
        return _to_request(ref)
    f = next((f for f in acc.record["files"] if f["id"] == file_id), None)
    if f is None:
        return render_template("error.html", status=404, code="archive.not_found",
                               message="该档案中没有这份文件"), 404
    media = f["media_type"] or f["declared_media_type"]
    pages = None
    if media == "application/ofd":
        _, path = reading_files.read_file(arch, p, ref, file_id, mode="view")
        pages = reading_files.ofd_pages(path)
    return render_template("viewer.html", a=acc, r=acc.record, f=f, media=media, pages=pages,
                           image_types=IMAGE_TYPES)


def _content(ref: str, file_id: str, mode: str) -> Any:
    try:
        c, _ = reading_files.read_file(archive(), principal(), ref, file_id, mode=mode)
    except RequestRequired:
        return None, _to_request(ref)
    return c, None


@bp.route("/view/<ref>/<file_id>/content")
@requires("record.read")
def content(ref: str, file_id: str) -> Any:
    """The file for the on-screen viewer, watermarked (a print from the browser keeps it)."""
    c, refusal = _content(ref, file_id, "view")
    if refusal is not None:
        return refusal
    if c.media_type == "application/pdf":
        return Response(watermark.watermark_pdf(c.data, _mark(c.request_id)),
                        mimetype="application/pdf")
    if c.media_type in IMAGE_TYPES:
        return Response(watermark.watermark_image(c.data, _mark(c.request_id)),
                        mimetype="image/png")
    return render_template("error.html", status=404, code="reading.no_preview",
                           message="此格式不提供在线预览"), 404


@bp.route("/view/<ref>/<file_id>/page/<int:number>.png")
@requires("record.read")
def ofd_page(ref: str, file_id: str, number: int) -> Any:
    """One OFD page drawn as an image, watermarked like every on-screen copy."""
    try:
        img, c, _ = reading_files.ofd_page_image(archive(), principal(), ref, file_id, number)
    except RequestRequired:
        return _to_request(ref)
    return Response(watermark.stamp_image(img, _mark(c.request_id)), mimetype="image/png")


@bp.route("/view/<ref>/<file_id>/thumb.png")
@requires("record.read")
def thumb(ref: str, file_id: str) -> Any:
    c, refusal = _content(ref, file_id, "thumbnail")
    if refusal is not None:
        return refusal
    if c.media_type not in IMAGE_TYPES:  # no thumbnail: a generic file icon
        return redirect(url_for("static", filename="file.svg"))
    return Response(watermark.thumbnail(c.data), mimetype="image/png")


@bp.route("/view/<ref>/<file_id>/download")
@requires("record.download")
def download(ref: str, file_id: str) -> Any:
    """A watermarked copy (user, time, request) as an attachment."""
    c, refusal = _content(ref, file_id, "download")
    if refusal is not None:
        return refusal
    copy = watermarked_copy(c)
    if copy is None:
        return render_template("error.html", status=404, code="reading.no_download",
                               message=NO_DOWNLOAD), 404
    return copy


NO_DOWNLOAD = "此格式不提供下载副本，请在线查阅其文字"


def watermarked_copy(c: reading_files.FileContent) -> Response | None:
    """The attachment a download gives (UI and API alike): PDF stamped on every page,
    images as PNG with the stamp; None for formats without a download copy."""
    stem = c.filename.rsplit(".", 1)[0]
    if c.media_type == "application/pdf":
        data, mime, name = watermark.watermark_pdf(c.data, _mark(c.request_id)), \
            "application/pdf", f"{stem}.pdf"
    elif c.media_type in IMAGE_TYPES:
        data, mime, name = watermark.watermark_image(c.data, _mark(c.request_id)), \
            "image/png", f"{stem}.png"
    else:
        return None
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(data, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'})

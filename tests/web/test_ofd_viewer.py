"""The viewer draws OFD pages as images (watermarked, logged), keeps the text under each
page, sends a clerk without a request to the request form, and answers a page that
cannot be drawn with a clear error."""

from __future__ import annotations

import io

from PIL import Image

from tests.web.test_reading_room import client_for, log_entries, person_of, room  # noqa: F401


def ofd_file(room):  # noqa: F811
    for aip in (room["first"], room["second"]):
        for f in person_of(room["web"].archive, aip)["files"]:
            if (f["media_type"] or f["declared_media_type"]) == "application/ofd":
                return aip, f
    raise AssertionError("the demo cases hold no OFD file")


def test_ofd_pages_are_drawn_as_watermarked_images(room):  # noqa: F811
    archive = room["web"].archive
    aip, f = ofd_file(room)
    arch = client_for(room, "archivist1")
    html = arch.get(f"/view/{aip}/{f['id']}").get_data(as_text=True)
    src = f"/view/{aip}/{f['id']}/page/1.png"
    assert f'class="ofdimg" src="{src}"' in html and "<pre>" in html
    r = arch.get(src)
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data)).convert("RGB")
    pixels = list(zip(*(band.tobytes() for band in img.split()), strict=True))
    reds = sum(1 for p in pixels if p[0] > 150 and p[1] < 120 and p[2] < 120)
    darks = sum(1 for p in pixels if max(p) < 90)
    assert reds > 100 and darks > 50  # the red watermark and the page's own text
    last = log_entries(archive, "aip:access")[-1]
    assert (last.actor, last.object_id, last.details["mode"], last.details["file"]) == \
        ("user:archivist1", aip, "page", f["id"])
    r = arch.get(f"/view/{aip}/{f['id']}/page/99.png")
    assert r.status_code == 400 and 'data-code="package.ofd_render"' in r.get_data(as_text=True)


def test_a_clerk_without_request_is_sent_to_the_form(room):  # noqa: F811
    aip, f = ofd_file(room)
    clerk = client_for(room, "clerk1")
    r = clerk.get(f"/view/{aip}/{f['id']}/page/1.png")
    assert r.status_code in (302, 404)  # personal information: a request; restricted: hidden
    if r.status_code == 302:
        assert r.headers["Location"].startswith("/access/")

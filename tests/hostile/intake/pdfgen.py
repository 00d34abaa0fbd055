"""Hostile PDFs built as raw bytes in well under a second: huge page trees, deep nesting."""

from __future__ import annotations


def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with a correct cross-reference table; ``objects[i]`` is object ``i + 1``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, xref)
    return bytes(out)


def many_pages(pages: int) -> bytes:
    """One flat page tree of ``pages`` empty A4 pages (2 + pages objects)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    return _pdf(objects)


def deep_array(depth: int) -> bytes:
    """A one-page PDF whose catalogue carries an array nested ``depth`` levels deep."""
    nested = b"[" * depth + b"0" + b"]" * depth
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Deep %s >>" % nested,
               b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    return _pdf(objects)


def deep_chain(depth: int) -> bytes:
    """A one-page PDF whose catalogue starts a chain of ``depth`` dictionaries, each
    referring to the next (nesting through indirect objects)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Next 4 0 R >>",
               b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    objects += [b"<< /Next %d 0 R >>" % (5 + i) for i in range(depth - 1)] + [b"<< >>"]
    return _pdf(objects)


def small_valid() -> bytes:
    return many_pages(1)

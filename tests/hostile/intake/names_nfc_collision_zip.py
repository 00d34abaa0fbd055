"""The NFC collision sent as a .zip: refused when the container is opened."""

import unicodedata

EXPECT = {"exit": 2, "code": "ingest.name_collision"}


def build(sub):
    pdf = (sub.root / "files" / next(f["path"] for f in sub.case["files"]
                                     if f["media_type"] == "application/pdf")).read_bytes()
    sub.add_file(unicodedata.normalize("NFC", "café.pdf"), pdf)
    sub.add_file(unicodedata.normalize("NFD", "café.pdf"), pdf + b"\n")
    sub.zip_instead = True

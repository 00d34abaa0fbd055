"""Two files, café.pdf composed (U+00E9) and decomposed (e + U+0301), both listed: they
are one name on a normalising file system."""

import unicodedata

EXPECT = {"exit": 2, "code": "ingest.name_collision"}


def build(sub):
    pdf = (sub.root / "files" / next(f["path"] for f in sub.case["files"]
                                     if f["media_type"] == "application/pdf")).read_bytes()
    sub.add_file(unicodedata.normalize("NFC", "café.pdf"), pdf)
    sub.add_file(unicodedata.normalize("NFD", "café.pdf"), pdf + b"\n")

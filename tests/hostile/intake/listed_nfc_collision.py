"""case.json lists café.pdf twice, composed and decomposed, for one file in the tree:
the list itself names two files one file system cannot hold apart."""

import unicodedata

EXPECT = {"exit": 3, "code": "GD-1-11"}


def build(sub):
    pdf = (sub.root / "files" / next(f["path"] for f in sub.case["files"]
                                     if f["media_type"] == "application/pdf")).read_bytes()
    sub.add_file(unicodedata.normalize("NFC", "café.pdf"), pdf)
    sub.list_file(unicodedata.normalize("NFD", "café.pdf"), pdf)

"""Two files, Receipt.pdf and receipt.PDF: one name on a case-insensitive share (NTFS)."""

EXPECT = {"exit": 2, "code": "ingest.name_collision"}


def build(sub):
    pdf = (sub.root / "files" / next(f["path"] for f in sub.case["files"]
                                     if f["media_type"] == "application/pdf")).read_bytes()
    sub.add_file("Receipt.pdf", pdf)
    sub.add_file("receipt.PDF", pdf + b"\n")

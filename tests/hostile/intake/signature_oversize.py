"""A case.json.sig of 1 MB: a signature is a few hundred bytes; refused unread."""

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    sub.after_signing = lambda root: (root / "case.json.sig").write_bytes(b" " * (1 << 20))

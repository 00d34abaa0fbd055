"""A title with a control character (U+0001): no XML description or database can carry it."""

EXPECT = {"exit": 2, "code": "ingest.case_invalid_text"}


def build(sub):
    sub.case["title"] += "\u0001"

"""A file size written as NaN: Python's json accepts it, RFC 8259 and PostgreSQL do not."""

import json

EXPECT = {"exit": 2, "code": "ingest.unusable_submission"}


def build(sub):
    sub.case["files"][0]["size"] = float("nan")
    sub.raw_case = json.dumps(sub.case, ensure_ascii=False).encode()

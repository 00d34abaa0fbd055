"""case.json with a note nested 100,000 arrays deep (json.loads would hit RecursionError)."""

import json

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    text = json.dumps(sub.case, ensure_ascii=False)
    sub.raw_case = (text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()

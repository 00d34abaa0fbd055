"""An event seq of 5,000 digits: Python refuses to convert it (ValueError, not a JSON error)."""

import json

EXPECT = {"exit": 2, "code": "ingest.unusable_submission"}


def build(sub):
    text = json.dumps(sub.case, ensure_ascii=False)
    sub.raw_case = text.replace('"seq": 1,', '"seq": ' + "9" * 5000 + ",", 1).encode()

"""A party name holding a lone UTF-16 surrogate (valid JSON escape, not valid Unicode text)."""

import json

EXPECT = {"exit": 2, "code": "ingest.case_invalid_text"}


def build(sub):
    text = json.dumps(sub.case, ensure_ascii=True)
    name = json.dumps(sub.case["applicant"]["name"], ensure_ascii=True)
    sub.raw_case = text.replace(name, name[:-1] + '\\ud800"', 1).encode()

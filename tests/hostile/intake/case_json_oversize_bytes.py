"""A case.json of 17 MB (a valid case padded with a long summary): over the byte cap."""

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    sub.case["result"]["summary"] = "办" * (6 << 20)

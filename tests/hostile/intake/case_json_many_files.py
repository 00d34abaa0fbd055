"""case.json listing 20,000 files (more than max_case_files, 10,000)."""

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    sub.case["files"] = sub.case["files"][:1] * 20_000

"""2,000 insured persons in one case: more parties than max_case_parties (1,001)."""

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    sub.case["subjects"] = [sub.case["applicant"]] * 2_000

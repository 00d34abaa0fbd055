"""The reported attack: case.json with 1,000,000 events (ran 300 s and 2 GB before it
was killed). Compact events keep it under the byte cap, so the streaming count refuses it."""

import json

EXPECT = {"exit": 2, "code": "ingest.case_too_large"}


def build(sub):
    head = json.dumps({k: v for k, v in sub.case.items() if k != "events"}, ensure_ascii=False)
    sub.raw_case = (head[:-1] + ', "events": [' + ",".join(["{}"] * 1_000_000) + "]}").encode()

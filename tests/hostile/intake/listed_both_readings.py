"""One file listed twice, once as ``x.pdf`` and once as ``files/x.pdf`` (the two readings of
a path): refused by the checks, never a crash while building the catalogue rows."""

EXPECT = {"exit": 3, "code": "GD-1-11"}


def build(sub):
    first = dict(sub.case["files"][0])
    first.update(id="dup1", path="files/" + first["path"])
    sub.case["files"].append(first)

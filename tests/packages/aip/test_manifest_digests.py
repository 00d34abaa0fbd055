"""A manifest line's digest is exactly 64 ASCII hex digits: anything else is malformed."""

from __future__ import annotations

import pytest

from dangan.packages.aip.bag import parse_manifest

GOOD = "ab" * 32


@pytest.mark.parametrize("digest", [
    "ab" * 31 + "a",            # 63 digits
    "ab" * 32 + "a",            # 65 digits
    "٣" * 64,                   # Arabic-Indic digits: str.isdigit() says yes
    "０" * 64,                  # full-width digits
    "ab" * 31 + "g0",           # a letter beyond f
])
def test_a_digest_that_is_not_64_ascii_hex_digits_is_malformed(digest: str) -> None:
    parsed = parse_manifest(f"{digest} data/a.pdf\n{GOOD} data/b.pdf\n".encode(), "manifest-sha256.txt")
    assert "data/a.pdf" not in parsed.entries
    assert parsed.entries == {"data/b.pdf": GOOD}
    assert [p["code"] if isinstance(p, dict) else p.code for p in parsed.problems] == [
        "manifest.malformed"]


def test_upper_case_digests_are_read_in_lower_case() -> None:
    parsed = parse_manifest(f"{GOOD.upper()} data/a.pdf\n".encode(), "manifest-sha256.txt")
    assert parsed.entries == {"data/a.pdf": GOOD} and not parsed.problems

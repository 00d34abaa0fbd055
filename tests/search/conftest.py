"""Fixtures of the search tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import corpus


@pytest.fixture
def engine(tmp_path: Path) -> WhooshEngine:
    eng = WhooshEngine(tmp_path / "index")
    eng.index_many(corpus())
    return eng

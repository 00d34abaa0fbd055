"""A writer killed with SIGKILL mid-write leaves a usable index and a lock the next one clears."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dangan.search import Access, IndexBusy
from dangan.search.storage import OWNER_FILE, writer_lock
from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import WANG, ZHANG, make_doc

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from dangan.search.whoosh_engine import WhooshEngine
from tests.search.corpus import ZHANG, make_doc
eng = WhooshEngine(sys.argv[1])
eng.index_many(make_doc(i, "张三", ZHANG, body="养老保险参保登记") for i in range(1, 51))
print("committed", flush=True)
body = "经审核材料齐全准予登记缴费基数核定个人账户记录转移接续" * 20
eng.index_many(make_doc(i, "李四", ZHANG, body=body) for i in range(51, 20051))
print("finished", flush=True)
"""


def test_sigkill_mid_write_leaves_a_usable_index(tmp_path: Path) -> None:
    home = tmp_path / "ix"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(home)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed"
        gen = WhooshEngine(home).home.current()
        deadline = time.monotonic() + 30
        while not (gen / OWNER_FILE).exists():  # the second writer holds the lock
            assert time.monotonic() < deadline, "child never started its second write"
            time.sleep(0.02)
        time.sleep(0.8)  # well inside the 20,000-document batch
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert (gen / OWNER_FILE).exists()  # the dead writer's record is still there

    eng = WhooshEngine(home, lock_timeout=5)
    assert eng.count() == 50  # committed work survives, the half-written batch does not
    assert eng.search("zhangsan", access=Access.everything(), page_size=100).total == 50
    eng.index(make_doc(999, "王小明", WANG, body="失业保险金"))  # the stale lock is cleared
    assert not (gen / OWNER_FILE).exists()
    assert not [p for p in gen.iterdir() if p.name.endswith(".tmp")]
    assert eng.count() == 51
    assert eng.search("wangxiaoming", access=Access.everything()).total == 1


def test_a_live_writer_makes_others_wait_then_report_busy(tmp_path: Path) -> None:
    eng = WhooshEngine(tmp_path / "ix", lock_timeout=0.3)
    eng.index(make_doc(1, "张三", ZHANG))
    with writer_lock(eng.home.current(), timeout=1):
        with pytest.raises(IndexBusy) as exc:
            eng.index(make_doc(2, "王小明", WANG))
        assert exc.value.details[0]["pid"] == os.getpid()
    eng.index(make_doc(2, "王小明", WANG))
    assert eng.count() == 2

"""A dishonest insider against a destruction: rows or the register removed behind the
system's back, and a register whose XML pulls its content from outside the package."""

from __future__ import annotations

import re
import shutil

from sqlalchemy import delete, select

from dangan.archive.models import Item
from dangan.archive.store import remove_tree
from dangan.archive.tombstones import Tombstone
from dangan.packages import evidence_destroyed
from tests.retention.test_destroyed_evidence import _verify, destroyed

__all__ = ["destroyed"]  # the fixture: a case destroyed under a filed register


def test_a_tombstone_deleted_behind_the_systems_back_is_no_lawful_destruction(
        archive, destroyed, cli):
    a, out, _, _ = destroyed
    assert cli("verify", a.aip_id)[0] == 0
    with archive.db.session() as s:
        s.execute(delete(Tombstone).where(Tombstone.aip_id == a.aip_id))
        s.commit()
    code, text = cli("verify", a.aip_id)
    assert code != 0 and "已依法销毁" not in text, text
    code, text = cli("evidence", a.case_id, str(archive.home / "after.zip"))
    assert code != 0 and not (archive.home / "after.zip").exists(), text


def test_a_register_removed_from_the_store_fails_the_destroyed_cases_verification(
        archive, destroyed, cli):
    a, out, _, _ = destroyed
    register = out["register"]
    with archive.db.session() as s:
        aip_id = s.scalar(select(Item.aip_id).where(
            Item.archival_code == register["archival_code"]))
    remove_tree(archive.store.path(aip_id))
    code, text = cli("verify", a.aip_id)
    assert code == 3 and "[不通过] 销毁清册" in text, text


def test_a_register_xml_with_entities_does_not_vouch(archive, destroyed, cli, monkeypatch):
    """An insider holding the archive key reseals the register with XML whose row for this
    case is hidden in an entity declared in a DOCTYPE (the carrier of XXE and "billion
    laughs" too). The reseal is stood in for by swapping the XML as the verifier reads it.
    The verifier expands no entity, so the register does not list the case."""
    _, _, pkg, key = destroyed
    real_read_aip = evidence_destroyed.read_aip
    hidden = []

    class Reader:
        def __init__(self, inner):
            self.inner, self.files = inner, inner.files

        def __enter__(self):
            self.inner.__enter__()
            return self

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

        def read_bytes(self, rel):
            data = self.inner.read_bytes(rel)
            if "销毁清册" not in rel or not rel.endswith(".xml"):
                return data
            text = data.decode()
            row = re.search(r"<item [^>]*?(/>|>.*?</item>)", text, re.S)
            assert row, text[:400]
            hidden.append(row.group(0))
            body = re.sub(r"^<\?xml[^>]*\?>\s*", "", text.replace(row.group(0), "&row;", 1))
            value = row.group(0).replace("'", "&#39;").replace("%", "&#37;")
            return (f"<?xml version='1.0' encoding='UTF-8'?>\n"
                    f"<!DOCTYPE r [<!ENTITY row '{value}'>]>\n{body}").encode()

    monkeypatch.setattr(evidence_destroyed, "read_aip", lambda p: Reader(real_read_aip(p)))
    code, report = _verify(cli, pkg, key)
    assert hidden  # the row was there, behind the entity
    assert code == 3 and "register" in report["failed_steps"], report


def test_removing_a_tree_another_run_is_removing_too_is_no_error(tmp_path, monkeypatch):
    """Two runs resuming one destruction or transfer remove the same AIP folders at once:
    the one that finds them gone midway goes on instead of crashing."""
    from dangan.archive import store

    tree = tmp_path / "aips" / "ab" / "abc"
    (tree / "data").mkdir(parents=True)
    (tree / "data" / "a.pdf").write_bytes(b"%PDF")
    (tree / "bag-info.txt").write_text("x")
    real_walk = store.os.walk

    def walk_then_other_run_removes(path):
        yield from real_walk(path)
        real_rmtree(tree)  # the other process, between our walk and our rmtree

    real_rmtree = shutil.rmtree
    monkeypatch.setattr(store.os, "walk", walk_then_other_run_removes)
    store.remove_tree(tree)
    assert not tree.exists()

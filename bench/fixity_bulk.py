"""Many typical items for the fixity benchmark, made in bulk from a few really filed ones.

Why: filing 100,000 demo cases through the whole pipeline (submission checks, PDF
decoding, the filing window) takes hours; an audit's cost per item does not depend on
how the item got there. Each clone is nevertheless a complete, correct item:

* its own case: the template's case.json with a new case id, signed again by the
  bench's source-system key;
* its own AIP, built and signed by ``packages.aip.build_aip`` under a new AIP id and an
  archival code allocated from the series counter, with the template's check report
  sealed in (the same checks over the same content files);
* its own catalogue rows (``ingest.records.build_item``), ``aip:file`` log entry and
  filed-case index row, like a filing's (no receipt: the audit does not read it).

The content files of a clone are hard links to its template's (same bytes: the
submission checks' report applies), and a clone's replica is a hard-linked copy of its
primary. The audit still opens, reads and hashes every file of both copies (the page
cache serves repeated bytes, as it serves the SHA-256 baseline of the same files).
AIPs are placed with the store's layout and permissions; durability is one ``syncfs``
at the end instead of one per AIP.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dangan.archive import audit_log, catalogue, crosscheck, replica
from dangan.archive.instance import Archive
from dangan.ingest import records, sealing
from dangan.ingest.intake import ReceivedSubmission
from dangan.packages import signing
from dangan.packages.aip import AIPInput, build_aip

CHUNK = 250  # clones per filing-window transaction
FIRST_SUFFIX = 500_000  # clone case ids end in 500000, 500001, … (real demo ids are small)


@dataclass
class Template:
    sub: ReceivedSubmission
    inp: AIPInput
    identified: dict[str, dict[str, Any]]
    service_item: Any
    archive_event: dict[str, Any]
    report: list[dict[str, Any]] | None = None


@contextmanager
def capturing() -> Iterator[dict[str, Template]]:
    """While filing, remember what each AIP was sealed from (the last sealing wins)."""
    found: dict[str, Template] = {}
    build_item, reseal = records.build_item, sealing.reseal_with_report

    def build_item_spy(sub, inp, identified, aip_sha256, store_key, receipt, filing, step):  # noqa: ANN001, ANN202
        found[inp.aip_id] = Template(sub, inp, identified, filing, step)
        return build_item(sub, inp, identified, aip_sha256, store_key, receipt, filing, step)

    def reseal_spy(path: Path, results: list[dict[str, Any]], *args: Any, **kw: Any) -> Any:
        template = found.get(path.name)
        if template is not None:
            template.report = results
        return reseal(path, results, *args, **kw)

    records.build_item, sealing.reseal_with_report = build_item_spy, reseal_spy
    try:
        yield found
    finally:
        records.build_item, sealing.reseal_with_report = build_item, reseal


def _link_tree(src: Path, dest: Path) -> None:
    for d, _dirs, names in os.walk(src):
        target = dest / Path(d).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for n in names:
            os.link(Path(d) / n, target / n)


def _clone(archive: Archive, session: Any, t: Template, suffix: int, key: signing.PrivateKey,
           key_id: str, staging: Path) -> None:
    case = json.loads(json.dumps(t.sub.case))
    case["case_id"] = f"{case['case_id'][:-6]}{suffix:06d}"
    case_bytes = json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8")
    aip_id = uuid.uuid4().hex
    root = staging / f"sub-{aip_id}"
    stored = archive.store.path(t.inp.aip_id) / "data" / "submission"
    for rel in t.inp.file_digests:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(stored / rel, root / rel)
    sig = signing.sign(key, key_id, case_bytes).to_json()
    (root / "case.json.sig").write_bytes(sig)
    placement = sealing.allocate(archive, session, case)
    inp = replace(t.inp, aip_id=aip_id, archival_code=placement.archival_code,
                  version=placement.version, submission_root=root, case=case,
                  case_bytes=case_bytes, check_results=t.report)
    akey = archive.key
    built = build_aip(inp, staging / aip_id, akey.private_key, akey.key_id)
    sub = replace(t.sub, root=root, case=case, case_bytes=case_bytes, signature_bytes=sig)
    item = records.build_item(sub, inp, t.identified, built.aip_digest,
                              archive.store.key_for(aip_id), {}, t.service_item, t.archive_event)
    catalogue.add_item(session, item)
    entry = audit_log.append(
        session, actor="bench", action="aip:file", object_id=aip_id, object_digest=built.aip_digest,
        details={"archival_code": placement.archival_code, "version": placement.version,
                 "case_id": case["case_id"], "source_system": case["source_system"],
                 "case_sha256": sub.case_sha256, "supersedes": None})
    crosscheck.index_filed(session, entry.index, aip_id, case["source_system"], case["case_id"],
                           sub.case_sha256)
    shutil.rmtree(root)
    primary = archive.store.path(aip_id)
    seal_tree_quick(built.path)
    primary.parent.mkdir(parents=True, exist_ok=True)
    os.rename(built.path, primary)
    copy, final = staging / f"copy-{aip_id}", replica.replica_store(archive).path(aip_id)
    _link_tree(primary, copy)
    seal_tree_quick(copy)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(copy, final)


def seal_tree_quick(root: Path) -> None:
    """The store's permissions (``store.seal_tree``) without its per-AIP flush."""
    for d, _dirs, names in os.walk(root):
        for n in names:
            os.chmod(Path(d) / n, 0o400)
    for d, _dirs, _names in os.walk(root, topdown=False):
        os.chmod(d, 0o500)


def clone(archive: Archive, templates: list[Template], count: int, key: signing.PrivateKey,
          key_id: str) -> int:
    """Add ``count`` clones of ``templates`` (round robin); return how many were made."""
    usable = [t for t in templates if t.inp.supersedes is None and t.report is not None]
    if not usable:
        raise SystemExit("no template to clone (no case was filed)")
    staging = archive.store.new_staging()
    made = 0
    try:
        while made < count:
            with archive.db.filing_session() as session:
                for _ in range(min(CHUNK, count - made)):
                    _clone(archive, session, usable[made % len(usable)], FIRST_SUFFIX + made,
                           key, key_id, staging)
                    made += 1
    finally:
        shutil.rmtree(staging)
    os.sync()  # one flush for everything placed
    return made

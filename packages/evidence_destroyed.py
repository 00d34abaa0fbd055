"""Offline verification of a destroyed case's evidence package, with ``dangan.packages``.

Why: after a lawful destruction the AIP is gone, so what an inspector can be shown is the
chain around it — the tombstone, the register (销毁清册) filed as a permanent record, and
the audit-log entries that vouch for each step, every one proved included under one
signed tree head. Checked offline, the package says: the case was filed on date X
(``aip:file``), appraised (``appraisal:decide``), approved by the principal and filed with
the HRSS department (``destruction:approve``, ``destruction:file``), destroyed on date Y
(``aip:destroy``) with the supervisors named, and listed in register Z, itself filed
(``aip:file``) and linked to the destruction (``destruction:register``).

Layout (flat zip): ``manifest.json`` + ``manifest.sig.json`` (type
``dangan-evidence-destroyed/v1``), ``tombstone.json``, ``register/<aip id>.zip`` (the
register's AIP as exported), ``audit/tree-head.json`` (+ ``.tsr``), ``audit/proofs.json``
(each entry with its inclusion proof, by role), ``audit/filing-consistency.json`` (the
first head signed over the filing, the filing's proof under it, and the consistency proof
to the package's head), ``keys/archive-public-key.pem``,
``report.html``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lxml import etree

from .aip import read_aip, validate_aip
from .aip.description import hardened_parser
from .canonical import canonical_json
from .errors import PackageError
from .evidence_common import EvidenceReport, EvidenceZip, Facts, read_json
from .merkle import leaf_hash, verify_inclusion
from .tree_head import SignedTreeHead, verify_extends, verify_tree_head

DESTROYED_TYPE = "dangan-evidence-destroyed/v1"
TOMBSTONE = "tombstone.json"
PROOFS = "audit/proofs.json"
CONSISTENCY = "audit/filing-consistency.json"
REGISTER_PREFIX = "register/"
REGISTER_NS = "urn:dangan:destruction-register:1"
REGISTER_SYSTEM = "dangan-archive"
# role → the action its entry must carry, in the order they must have happened
ROLES = {"filed": "aip:file", "decided": "appraisal:decide", "principal": "destruction:approve",
         "filing": "destruction:file", "destroyed": "aip:destroy",
         "register_filed": "aip:file", "register_linked": "destruction:register"}


class _State:
    def __init__(self) -> None:
        self.stone: dict[str, Any] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.register: dict[str, Any] = {}


def _tombstone_step(z: EvidenceZip, r: EvidenceReport, f: Facts, st: _State) -> None:
    try:
        stone = read_json(z.read(TOMBSTONE), "销毁记录（墓碑）")
    except PackageError as exc:
        r.add("tombstone", False, exc.message)
        return
    need = ("aip_id", "archival_code", "aip_sha256", "register_ref", "audit_index", "facts")
    if not isinstance(stone, dict) or stone.get("kind") != "destroyed" or any(
            k not in stone for k in need):
        r.add("tombstone", False, "销毁记录不完整或不是销毁（kind 应为 destroyed）")
        return
    st.stone = stone
    r.aip_id, r.archival_code = stone["aip_id"], stone["archival_code"]
    r.add("tombstone", True, f"销毁记录：{stone['archival_code']}（AIP {stone['aip_id']}，摘要 "
          f"{stone['aip_sha256']}），登记于销毁清册 {stone['register_ref']}",
          {k: stone.get(k) for k in need if k != "facts"})


def _proofs_step(z: EvidenceZip, r: EvidenceReport, f: Facts, st: _State) -> None:
    try:
        doc = read_json(z.read(PROOFS), "审计日志证明")
        bad, ok = [], {}
        for role in ROLES:
            p = doc[role]
            leaf = leaf_hash(canonical_json(p["entry"]))
            proof = [bytes.fromhex(x) for x in p["inclusion_proof"]]
            if f.head is None or not verify_inclusion(leaf, p["index"], f.head.head.size, proof,
                                                      f.head.head.root):
                bad.append(role)
            elif p["entry"].get("index") != p["index"]:
                bad.append(role)
            else:
                ok[role] = p["entry"]
    except (PackageError, KeyError, TypeError, ValueError) as exc:
        r.add("log_proofs", False, f"审计日志证明无法读取：{getattr(exc, 'message', exc)}")
        return
    st.entries = ok
    if bad:
        r.add("log_proofs", False, "以下审计记录不在签名树头之中（包含证明不成立）：" + "、".join(bad),
              {"failed": bad})
    else:
        r.add("log_proofs", True, f"{len(ok)} 条审计记录（归档、鉴定、批准、备案、销毁、清册归档与关联）均包含"
              f"在签名树头（{f.head.head.size if f.head else '?'} 条）之中",
              {role: e["index"] for role, e in ok.items()})


def _consistency_step(z: EvidenceZip, r: EvidenceReport, f: Facts, st: _State) -> None:
    """The filing was under a head signed back then, and the log only grew since."""
    filed = st.entries.get("filed")
    try:
        doc = read_json(z.read(CONSISTENCY), "归档时树头的一致性证明")
        old = SignedTreeHead.from_dict(doc["signed_tree_head"])
        verify_tree_head(old, f.key or b"")
        inclusion = [bytes.fromhex(p) for p in doc["inclusion_proof"]]
        cons = [bytes.fromhex(p) for p in doc["consistency_proof"]]
    except (PackageError, KeyError, TypeError, ValueError) as exc:
        r.add("consistency", False, f"归档时树头的证明无法读取：{getattr(exc, 'message', exc)}")
        return
    problems = []
    if filed is None or doc.get("index") != filed["index"] or not verify_inclusion(
            leaf_hash(canonical_json(filed)), filed["index"], old.head.size, inclusion,
            old.head.root):
        problems.append("归档记录不在归档时签署的树头之中")
    if f.head is None or not verify_extends(old, f.head, cons):
        problems.append("证据包的签名树头不是归档时树头的追加延续：日志被改写")
    if problems:
        r.add("consistency", False, "；".join(problems))
    else:
        r.add("consistency", True, f"归档记录已在 {old.head.timestamp} 签署的树头（{old.head.size} 条）"
              "之中，此后日志只增未改（一致性证明成立）", {"old_size": old.head.size})


def _mismatches(entry: dict[str, Any] | None, action: str, checks: list[tuple[str, Any, Any]]
                ) -> list[str]:
    if entry is None:
        return ["没有经证明的审计记录"]
    out = [] if entry.get("action") == action else [f"动作为 {entry.get('action')!r}，应为 {action!r}"]
    return out + [f"{what}为 {found!r}，应为 {want!r}" for what, found, want in checks
                  if found != want]


def _chain_step(z: EvidenceZip, r: EvidenceReport, f: Facts, st: _State) -> None:
    """Each entry says what the tombstone says, and they happened in the lawful order."""
    s, e = st.stone, st.entries
    if not s or not e:
        r.add("lawful_order", False, "缺少销毁记录或审计证明，无法核对销毁的合法性")
        return
    facts, ap = s["facts"], s["facts"].get("approvals", {})
    d = {role: (e.get(role) or {}).get("details") or {} for role in ROLES}
    problems = {
        "filed": _mismatches(e.get("filed"), "aip:file", [
            ("对象", e.get("filed", {}).get("object_id"), s["aip_id"]),
            ("AIP 摘要", e.get("filed", {}).get("object_digest"), s["aip_sha256"]),
            ("档号", d["filed"].get("archival_code"), s["archival_code"]),
            ("办件编号", d["filed"].get("case_id"), s.get("case_id"))]),
        "decided": _mismatches(e.get("decided"), "appraisal:decide", [
            ("对象", e.get("decided", {}).get("object_id"), f"appraisal:{s.get('appraisal_id')}"),
            ("鉴定记录摘要", e.get("decided", {}).get("object_digest"),
             facts.get("appraisal", {}).get("record_sha256"))]),
        "destroyed": _mismatches(e.get("destroyed"), "aip:destroy", [
            ("序号", e.get("destroyed", {}).get("index"), s["audit_index"]),
            ("对象", e.get("destroyed", {}).get("object_id"), s["aip_id"]),
            ("AIP 摘要", e.get("destroyed", {}).get("object_digest"), s["aip_sha256"]),
            ("销毁清册编号", d["destroyed"].get("register_ref"), s["register_ref"]),
            ("销毁方式", d["destroyed"].get("method"), s.get("method")),
            ("监销人", d["destroyed"].get("supervisors"), facts.get("supervisors")),
            ("审批", d["destroyed"].get("approvals"), ap)]),
    }
    for kind, action in (("principal", "destruction:approve"), ("filing", "destruction:file")):
        want = ap.get(kind) or {}
        problems[kind] = _mismatches(e.get(kind), action, [
            ("序号", e.get(kind, {}).get("index"), want.get("audit_index")),
            ("批准人", d[kind].get("approver"), want.get("approver")),
            ("文号", d[kind].get("document_no"), want.get("document_no")),
            ("是否列有本件", s["aip_id"] in (d[kind].get("items") or []), True)])
    order = [e[k]["index"] for k in ("filed", "decided", "principal", "destroyed") if k in e]
    if order != sorted(order) or e.get("filing", {}).get("index", 0) > e.get(
            "destroyed", {}).get("index", 0):
        problems["order"] = ["归档、鉴定、批准备案、销毁的先后次序不对"]
    bad = {k: v for k, v in problems.items() if v}
    if bad:
        r.add("lawful_order", False, "审计记录与销毁记录不符：" + "；".join(
            f"{k}：{'，'.join(v)}" for k, v in bad.items()), bad)
    else:
        r.add("lawful_order", True, f"归档（第 {e['filed']['index']} 条）→ 鉴定（第 "
              f"{e['decided']['index']} 条）→ 批准与备案 → 销毁（第 {e['destroyed']['index']} 条）"
              "的审计记录与销毁记录逐项相符，次序合法")


def _register_step(z: EvidenceZip, r: EvidenceReport, f: Facts, st: _State) -> None:
    names = [n for n in z.members if n.startswith(REGISTER_PREFIX) and n.endswith(".zip")]
    s, e = st.stone, st.entries
    if len(names) != 1 or f.key is None or not s:
        r.add("register", False, "证据包中应恰有一个 register/*.zip（销毁清册的信息包）", {"found": names})
        return
    with tempfile.TemporaryDirectory(prefix="dangan-evidence-") as tmp:
        target = Path(tmp) / "register.zip"
        with open(target, "wb") as out:
            z.sha256(names[0], out)
        v = validate_aip(target, f.key)
        xml = b""
        if v.valid:
            with read_aip(target) as reader:
                xml = next((reader.read_bytes(p) for p in reader.files
                            if p.startswith("data/") and p.endswith(".xml")
                            and "销毁清册" in p), b"")
    problems = [p["note"] for p in v.problems[:5]] if not v.valid or v.key_source != "given" else []
    listed = None
    try:
        # the register comes from the package under verification: no DTD, no entities
        root = etree.fromstring(xml, hardened_parser()) if xml else None
        if root is not None and root.get("ref") == s["register_ref"]:
            listed = next((i for i in root.iter(f"{{{REGISTER_NS}}}item")
                           if i.get("aipId") == s["aip_id"]), None)
    except etree.XMLSyntaxError:
        root = None
    if listed is None:
        problems.append(f"销毁清册 XML 中没有清册编号 {s['register_ref']} 下的本件")
    elif (listed.get("aipSha256"), listed.get("archivalCode")) != (s["aip_sha256"],
                                                                  s["archival_code"]):
        problems.append("销毁清册所列本件的档号或 AIP 摘要与销毁记录不符")
    rf, rl = e.get("register_filed") or {}, e.get("register_linked") or {}
    problems += _mismatches(rf or None, "aip:file", [
        ("清册归档对象", rf.get("object_id"), v.aip_id),
        ("清册 AIP 摘要", rf.get("object_digest"), v.aip_digest),
        ("清册办件编号", (rf.get("details") or {}).get("case_id"), s["register_ref"]),
        ("清册来源系统", (rf.get("details") or {}).get("source_system"), REGISTER_SYSTEM)])
    problems += _mismatches(rl or None, "destruction:register", [
        ("关联的清册编号", rl.get("object_id"), s["register_ref"]),
        ("关联的清册 AIP", (rl.get("details") or {}).get("aip_id"), v.aip_id),
        ("关联的清册摘要", rl.get("object_digest"), v.aip_digest)])
    st.register = {"aip_id": v.aip_id, "archival_code": v.archival_code,
                   "aip_digest": v.aip_digest}
    if problems:
        r.add("register", False, "销毁清册不成立：" + "；".join(problems), st.register)
    else:
        r.add("register", True, f"销毁清册 {s['register_ref']} 已作为永久档案归档（档号 {v.archival_code}），"
              "其信息包与档案馆签名有效，并列有本件及其 AIP 摘要", st.register)


def _conclusion(r: EvidenceReport, st: _State) -> None:
    if not all(x.ok for x in r.steps):
        return
    s, e, ap = st.stone, st.entries, st.stone["facts"].get("approvals", {})
    principal, filing = ap.get("principal", {}), ap.get("filing", {})
    r.add("lawful_destruction", True,
          f"{s['archival_code']} 于 {e['filed']['time'][:10]} 归档入库；经鉴定（第 "
          f"{s.get('appraisal_id')} 号），由 {principal.get('approver')} 批准（{principal.get('document_no')}）"
          f"并报 {filing.get('approver')} 备案（{filing.get('document_no')}），于 "
          f"{e['destroyed']['time'][:10]} 在监销人 {'、'.join(s['facts'].get('supervisors') or [])} "
          f"监督下依法销毁，登记于销毁清册 {s['register_ref']}（档号 {st.register['archival_code']}）",
          {"filed_at": e["filed"]["time"], "destroyed_at": e["destroyed"]["time"],
           "register_ref": s["register_ref"], "register": st.register})


def verify_destroyed(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    """The steps after the shared frame (key, manifest, tree head) for a destroyed case."""
    st = _State()
    for step in (_tombstone_step, _proofs_step, _consistency_step, _chain_step,
                 _register_step):
        try:
            step(z, r, f, st)
        except (PackageError, OSError, EOFError, KeyError, TypeError) as exc:
            r.add(step.__name__.strip("_").removesuffix("_step"), False,
                  f"无法完成本项验证：{getattr(exc, 'message', exc)}")
    _conclusion(r, st)

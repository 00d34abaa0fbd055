"""Verifying what the archive lawfully gave up: the tombstone and, for a destruction, the
register (销毁清册) it names.

Why apart from ``chain``: a removed item has no AIP left to prove; what ``dangan verify``
can prove instead is that its tombstone is vouched for by its ``aip:destroy`` /
``aip:transfer`` entry, and that the register it was destroyed under — itself filed as a
permanent record — still verifies end to end like any case (``chain.verify_item``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dangan.packages.evidence import EvidenceStep as Step

from . import catalogue, crosscheck, tombstones
from .chain import ItemVerification, verify_item
from .fixity_measure import measure
from .instance import Archive
from .log_prefix import LogPrefix


def _register_step(archive: Archive, session: Session, stone: tombstones.Tombstone,
                   pem: bytes) -> Step:
    filed = tombstones.register_of(session, stone.register_ref)
    if filed is None:
        return Step("register", False, f"销毁清册 {stone.register_ref} 尚未归档：运行 dangan "
                    "retention destruction execute --resume 补归档", {"register_ref": stone.register_ref})
    try:
        item = catalogue.get_item(session, filed["aip_id"])
    except catalogue.NotFound:
        return Step("register", False, f"销毁清册 {stone.register_ref}（档号 {filed['archival_code']}）"
                    "已登记归档，但目录中没有它：清册下落不明", filed)
    v = verify_item(archive, session, item, pem, measure(archive, [item.aip_id]).get(item.aip_id),
                    LogPrefix())
    bad = [s.step for s in v.steps if not s.ok]
    if bad:
        return Step("register", False, f"销毁清册 {stone.register_ref}（档号 {item.archival_code}）"
                    f"验证不通过：{'、'.join(bad)}", {**filed, "failed_steps": bad})
    return Step("register", True, f"销毁清册 {stone.register_ref} 已作为永久档案归档（档号 "
                f"{item.archival_code}），{len(v.steps)} 项验证均通过", filed)


def removal_verification(archive: Archive, session: Session, stone: tombstones.Tombstone,
                         pem: bytes) -> ItemVerification:
    """A lawfully destroyed or transferred item: its tombstone, vouched for by the log, and
    for a destruction the register it names, verified end to end."""
    removal = crosscheck.lawful_removal(session, stone.aip_id)
    name = tombstones.REMOVAL_KINDS.get(stone.kind, stone.kind)
    if removal is None:
        step = Step("lawful_removal", False,
                    f"目录中有 {stone.archival_code} 的{name}记录，但审计日志中没有与之相符的"
                    "销毁（移交）记录：该记录不可信，信息包下落不明", {"aip_id": stone.aip_id})
    else:
        filed = tombstones.register_of(session, stone.register_ref)
        where = f" {stone.register_ref}" if stone.kind != "destroyed" else (
            f"销毁清册 {stone.register_ref}（" + (f"已归档，档号 {filed['archival_code']}）"
                                              if filed else "尚未归档）"))
        step = Step("lawful_removal", True,
                    f"{name}：{stone.removed_at:%Y-%m-%d}，登记于{where}，审计日志第 "
                    f"{removal.audit_index} 条（AIP 摘要 {stone.aip_sha256}）"
                    + tombstones.removal_note(stone),
                    {"aip_id": stone.aip_id, "kind": stone.kind,
                     "register_ref": stone.register_ref, "audit_index": removal.audit_index,
                     "aip_sha256": stone.aip_sha256, "method": stone.method,
                     "facts": stone.facts, "register": filed})
    steps = [step]
    if removal is not None and stone.kind == "destroyed":
        steps.append(_register_step(archive, session, stone, pem))
    return ItemVerification(stone.aip_id, stone.archival_code, stone.version,
                            stone.source_system, stone.case_id, steps)

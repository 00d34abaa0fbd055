"""Submissions with one realistic defect each, for demos and for testing the checks.

Each is a normal generated case with exactly one thing wrong, done the way it happens in
practice: a file edited after the case was signed, a required document left out, an ID
number mistyped, a trail cut before 反馈, a PNG saved under a .pdf name, a test virus
attached, a stray file copied into the folder. Everything else (signature, digests)
stays consistent, so a check report should name just that defect.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from pathlib import Path

from dangan.archive.filing_config import FilingConfig
from dangan.packages.digests import sha256_hex, sm3_hex
from dangan.packages.signing import PrivateKey

from .cases import BuiltCase, BuiltFile, encode, layout_for, render_case
from .generator import write_submission
from .plan import CasePlan, plan_case
from .scans import render_page, to_jpeg, to_png

# The EICAR anti-virus test file, assembled at run time so this source file itself is not
# mistaken for one by scanners that read the repository.
_EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").encode("ascii")


def _wrong_check_char(id_number: str) -> str:
    chars = "0123456789X"
    return id_number[:17] + chars[(chars.index(id_number[17]) + 3) % 11]


def _bad_id(plan: CasePlan) -> None:
    f = plan.facts
    person = f.person
    assert person is not None
    bad = dataclasses.replace(person, id_number=_wrong_check_char(person.id_number))
    f.person = bad
    if f.subject is person:
        f.subject = bad
    if f.applicant is person:
        f.applicant = bad


def _refresh(bf: BuiltFile, data: bytes) -> None:
    bf.data = data
    bf.entry.update(size=len(data), sha256=sha256_hex(data), sm3=sm3_hex(data))


def _drop_kind(built: BuiltCase, kind: str) -> str:
    victim = next(bf for bf in built.files if bf.entry["kind"] == kind)
    built.files.remove(victim)
    built.case["files"] = [bf.entry for bf in built.files]
    for ev in built.case["events"]:
        ev["files"] = [i for i in ev["files"] if i != victim.entry["id"]]
    return victim.entry["title"]


def _png_as_pdf(built: BuiltCase) -> str:
    bf = next(b for b in built.files if b.entry["media_type"] == "application/pdf")
    assert built.plan is not None
    pf = next(p for p in built.plan.files if p.id == bf.entry["id"])
    doc = layout_for(built.plan, pf)
    png = to_png(render_page(doc.pages[0], dpi=200), 200)  # type: ignore[union-attr]
    _refresh(bf, png)
    bf.entry["pages"] = 1
    return bf.entry["path"]


def _add_eicar(built: BuiltCase) -> str:
    n = len(built.files) + 1
    entry = {"id": f"F{n:02d}", "path": f"attachments/F{n:02d}-other.txt", "title": "补充说明材料",
             "kind": "other", "origin": "born_digital", "media_type": "text/plain",
             "size": 0, "sha256": "", "sm3": "", "created_at": built.case["accepted_at"]}
    bf = BuiltFile(entry, b"")
    _refresh(bf, _EICAR)
    built.files.append(bf)
    built.case["files"].append(entry)
    accept = next(ev for ev in built.case["events"] if ev["step"] == "accept")
    accept["files"].append(entry["id"])
    return entry["path"]


def make_flawed(out_dir: Path, *, seed: int, signing_key: PrivateKey, key_id: str,
                source_system: str, config: FilingConfig) -> list[tuple[Path, str]]:
    """Write the flawed submissions under ``out_dir``; return (path, 中文说明) pairs."""
    out: list[tuple[Path, str]] = []

    def make(n: int, code: str, outcome: str, *, before: Callable[[CasePlan], None] | None = None,
             mutate: Callable[[BuiltCase], str] | None = None) -> tuple[Path, BuiltCase, str]:
        item = config.get(code) or config.items[0]
        rng = random.Random(f"flawed:{seed}:{n}")
        plan = plan_case(item, rng, outcome=outcome, case_seq=900000 + n)
        if before is not None:
            before(plan)
        built = render_case(plan, rng, source_system)
        detail = mutate(built) if mutate is not None else ""
        return write_submission(out_dir, built, signing_key, key_id), built, detail

    # 1. a decision edited after the case was signed: a higher amount, same file name
    path, built, _ = make(1, "SB-YL-HD-005", "approved")
    assert built.plan is not None
    target = next(bf for bf in built.files if bf.entry["kind"] == "decision")
    pf = next(p for p in built.plan.files if p.id == target.entry["id"])
    facts = built.plan.facts
    facts.amounts = {k: v.replace(v[0], str(int(v[0]) % 9 + 1), 1) if v[:1].isdigit() else v
                     for k, v in facts.amounts.items()}
    forged, _ = encode(layout_for(built.plan, pf), pf.fmt, random.Random(f"forge:{seed}"))
    (path / "files" / target.entry["path"]).write_bytes(forged)
    out.append((path, f"签名后篡改了决定书 files/{target.entry['path']}（改动了核定金额），"
                      "其摘要与 case.json 登记的不符"))

    # 2. a document the outcome requires is missing
    path, _, title = make(2, "SB-YL-HD-001", "approved", mutate=lambda b: _drop_kind(b, "decision"))
    out.append((path, f"缺少“准予”结果必需的决定书（decision：{title}）"))

    # 3. a mistyped resident ID (wrong GB 11643 check character), consistently in every document
    path, built, _ = make(3, "SB-YL-DJ-001", "approved", before=_bad_id)
    out.append((path, f"参保人员居民身份证号码 {built.case['subjects'][0]['id_number']} 校验码错误"))

    # 4. a trail that ends before feedback
    def cut(b: BuiltCase) -> str:
        b.case["events"] = [ev for ev in b.case["events"] if ev["step"] != "feedback"]
        b.case["completed_at"] = b.case["events"][-1]["at"]
        return ""

    path, _, _ = make(4, "SB-ZH-DJ-001", "approved", mutate=cut)
    out.append((path, "办理过程缺少“反馈”环节（办件未办结即提交归档）"))

    # 5. a PNG image saved with a .pdf name and declared as PDF
    path, _, name = make(5, "SB-YL-ZR-001", "approved", mutate=_png_as_pdf)
    out.append((path, f"文件 files/{name} 声明为 PDF、扩展名为 .pdf，实际是 PNG 图像"))

    # 6. an attachment carrying the EICAR test virus
    path, _, name = make(6, "SB-SY-HD-001", "approved", mutate=_add_eicar)
    out.append((path, f"附件 files/{name} 含 EICAR 反病毒测试特征码"))

    # 7. a file in files/ that case.json does not list
    path, built, _ = make(7, "SB-YL-ZC-001", "approved")
    extra = path / "files" / "scans" / "extra-scan.jpg"
    extra.parent.mkdir(parents=True, exist_ok=True)
    doc_page = built.plan.files[0] if built.plan else None
    assert doc_page is not None
    page = layout_for(built.plan, doc_page)  # type: ignore[arg-type]
    extra.write_bytes(to_jpeg(render_page(page.pages[0]), 200))  # type: ignore[union-attr]
    out.append((path, "files/scans/extra-scan.jpg 不在 case.json 的文件清单中（多余文件）"))
    return out

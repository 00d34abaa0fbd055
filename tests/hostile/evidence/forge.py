"""Generator of a forged evidence package: everything re-signed by an attacker.

The attacker takes a real evidence package and, without the archive's key, builds one
that is consistent throughout under keys of their own:

* the decision PDF is replaced (another document, same name), ``case.json`` re-listed
  and signed with an attacker *source* key under the genuine key id;
* the AIP is resealed (description, manifests, ``signature.json``) with an attacker
  *archive* key;
* a fake log holds the ``aip:file`` entry naming the new AIP digest, under a tree head
  signed with the attacker key; the receipt is rewritten and re-signed to match;
* the included archive public key, the source key, the trust snapshot and the manifest
  are replaced and re-signed.

Every check then holds under the package's own key; only an archive key obtained
independently (``--key`` / ``--fingerprint``) tells it apart. Generated per test rather
than stored, because a package embeds a whole AIP and per-run keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfgen import canvas

from dangan.packages import evidence as ev
from dangan.packages import merkle, signing
from dangan.packages.aip import export_aip_zip, parse_description, render_description
from dangan.packages.aip.bag import (
    BAG_INFO,
    CASE_SIG,
    DESCRIPTION,
    parse_bag_info,
    payload_oxum,
    write_tag_files,
)
from dangan.packages.digests import digest_file
from dangan.packages.safezip import extract_zip
from dangan.packages.tree_head import SignedTreeHead, TreeHead, sign_tree_head


@dataclass
class Forged:
    path: Path
    archive_key: signing.PrivateKey  # the attacker's "archive" key
    source_key: signing.PrivateKey  # the attacker's "source system" key
    replaced: str  # AIP path of the replaced decision document


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _pretty(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True).encode()


def fake_decision_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Decision No. FORGED-0001: approved, benefits back-paid from 2001")
    c.save()
    return buf.getvalue()


def _reseal_aip(aip_zip: bytes, work: Path, source_key: signing.PrivateKey,
                archive_key: signing.PrivateKey, archive_key_id: str) -> tuple[bytes, str, str]:
    """The AIP with its decision PDF replaced, re-signed as source and as archive."""
    nested = work / "original-aip.zip"
    nested.write_bytes(aip_zip)
    out_dir = work / "aip"
    out_dir.mkdir()
    extract_zip(nested, out_dir)
    [root] = list(out_dir.iterdir())
    model = parse_description((root / DESCRIPTION).read_bytes())
    record = model["signed_object"]["content"]["record"]
    docs = record["documents"]
    pdfs = [d for d in docs if d["path"].endswith(".pdf")]
    victim = next((d for d in pdfs if "decision" in d.get("kind", "")), pdfs[-1])
    target = root / victim["path"]
    os.chmod(target, 0o644)
    target.write_bytes(fake_decision_pdf())
    new = digest_file(target)
    summary = model["signed_object"]["explanation"]["summary"]
    summary["bytes"] += new.size - victim["size"]
    victim.update(size=new.size, digests={"sha256": new.sha256, "sm3": new.sm3})
    # the sender's case.json lists the file: re-list it and sign as the "source system"
    sub = record["submission"]
    case_path = root / sub["path"]
    case = json.loads(case_path.read_text("utf-8"))
    rel = victim["path"].removeprefix("data/submission/").removeprefix("files/")
    for f in case["files"]:
        if f["path"].removeprefix("files/") == rel:
            f.update(size=new.size, sha256=new.sha256)
            if "sm3" in f:
                f["sm3"] = new.sm3
    case_bytes = json.dumps(case, ensure_ascii=False, indent=2).encode()
    os.chmod(case_path, 0o644)
    case_path.write_bytes(case_bytes)
    sig_path = case_path.with_name(Path(CASE_SIG).name)
    old_sig = signing.DetachedSignature.from_json(sig_path.read_bytes())
    os.chmod(sig_path, 0o644)
    sig_path.write_bytes(signing.sign(source_key, old_sig.key_id, case_bytes).to_json())
    cd = digest_file(case_path)
    sub.update(size=cd.size, digests={"sha256": cd.sha256, "sm3": cd.sm3})
    os.chmod(root / DESCRIPTION, 0o644)
    (root / DESCRIPTION).write_bytes(render_description(model))
    payload = {p.relative_to(root).as_posix(): digest_file(p)
               for p in (root / "data").rglob("*") if p.is_file()}
    info, _ = parse_bag_info((root / BAG_INFO).read_bytes())
    info = [(k, payload_oxum(payload) if k == "Payload-Oxum" else v) for k, v in info]
    for name in root.iterdir():
        if name.is_file():
            os.chmod(name, 0o644)
    tms, _ = write_tag_files(root, info, payload, archive_key, archive_key_id,
                             "2030-01-01T00:00:00Z")
    out = work / "forged-aip.zip"
    export_aip_zip(root, out)
    return out.read_bytes(), hashlib.sha256(tms).hexdigest(), victim["path"]


def forge_package(src: Path, dest: Path, work: Path) -> Forged:
    """Write to ``dest`` the attacker's version of the real evidence package ``src``."""
    work.mkdir(parents=True, exist_ok=True)
    files = _members(src)
    attacker = signing.generate_private_key()
    source = signing.generate_private_key()
    receipt = json.loads(files[ev.RECEIPT])
    key_id = receipt["signature"]["key_id"]  # keep the genuine key ids: it looks the same
    aip_name = next(n for n in files if n.startswith(ev.AIP_PREFIX))
    aip, digest, replaced = _reseal_aip(files[aip_name], work, source, attacker, key_id)
    files[aip_name] = aip

    # a log of its own: filler leaves, then the aip:file entry naming the forged AIP
    inclusion = json.loads(files[ev.INCLUSION])
    entry, index = dict(inclusion["entry"]), inclusion["index"]
    entry["object_digest"] = digest
    leaf = merkle.leaf_hash(ev.canonical_json(entry))
    leaves = [hashlib.sha256(b"filler %d" % i).digest() for i in range(index)] + [leaf]
    log_id = json.loads(files[ev.TREE_HEAD])["tree_head"]["log_id"]
    head = TreeHead.create(len(leaves), merkle.root_from_leaf_hashes(leaves), log_id)
    sth: SignedTreeHead = sign_tree_head(head, attacker, key_id)
    proof = [p.hex() for p in merkle.inclusion_proof(leaves, index, len(leaves))]
    files[ev.TREE_HEAD] = _pretty(sth.to_dict())
    files[ev.INCLUSION] = _pretty({"index": index, "entry": entry, "leaf_hash": leaf.hex(),
                                   "tree_size": len(leaves), "inclusion_proof": proof})
    files[ev.CONSISTENCY] = _pretty({"old_size": len(leaves), "new_size": len(leaves),
                                     "consistency_proof": []})
    body = {k: v for k, v in receipt.items() if k != "signature"}
    body["sha256"] = digest
    body["audit"] = {"index": index, "entry": entry, "leaf_hash": leaf.hex(),
                     "tree_size": len(leaves), "inclusion_proof": proof,
                     "signed_tree_head": sth.to_dict()}
    body["signature"] = signing.sign(attacker, key_id, ev.canonical_json(body)).to_dict()
    files[ev.RECEIPT] = _pretty(body)

    # the keys: the attacker's archive key, the attacker's source key, vouched for by itself
    files[ev.ARCHIVE_KEY] = signing.public_key_pem(attacker)
    snapshot = json.loads(files[ev.SOURCE_TRUST])
    source_pem = signing.public_key_pem(source)
    for k in snapshot["keys"]:
        k["fingerprint"] = signing.key_fingerprint(source_pem)
        files[k["file"]] = source_pem
    files[ev.SOURCE_TRUST] = ev.canonical_json(snapshot)
    files[ev.SOURCE_TRUST_SIG] = signing.sign(attacker, key_id, files[ev.SOURCE_TRUST]).to_json()

    manifest = json.loads(files[ev.MANIFEST])
    manifest["files"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                         for n, d in files.items() if n not in (ev.MANIFEST, ev.MANIFEST_SIG)}
    files[ev.MANIFEST] = ev.canonical_json(manifest)
    files[ev.MANIFEST_SIG] = signing.sign(attacker, key_id, files[ev.MANIFEST]).to_json()
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return Forged(dest, attacker, source, replaced)

"""What a corpus entry gets to work with: a valid signed submission it may change.

An entry is a module in this folder (not starting with ``_`` or named ``kit``/``pdfgen``)
with a docstring saying what the attack is, ``EXPECT = {"exit": 2|3, "code": …}`` and
``build(sub: Submission) -> None``. ``code`` is the stable error code for exit 2 (the
``error.code`` of ``dangan ingest --json``) or a check item that must fail for exit 3.
After ``build`` the runner writes case.json back (unless the entry wrote raw bytes)
and signs it with the trusted test key, so the attack gets past the signature.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any


class Submission:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.case: dict[str, Any] = json.loads((root / "case.json").read_text("utf-8"))
        self.raw_case: bytes | None = None  # set to write these exact bytes instead
        self.zip_instead = False  # send the submission as a .zip of the tree
        self.after_signing = None  # callable(root): a change made after case.json is signed

    def add_file(self, rel: str, data: bytes, *, media_type: str = "application/pdf",
                 kind: str = "evidence", listed: bool = True) -> None:
        """Put ``files/<rel>`` into the tree and, when ``listed``, into case.json."""
        target = self.root / "files" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if listed:
            self.list_file(rel, data, media_type=media_type, kind=kind)

    def list_file(self, rel: str, data: bytes, *, media_type: str = "application/pdf",
                  kind: str = "evidence") -> None:
        template = dict(self.case["files"][0])
        template.pop("sm3", None)
        template.pop("pages", None)
        template.update(id=f"h{len(self.case['files']) + 1}", path=rel, title="附加材料",
                        kind=kind, origin="born_digital", media_type=media_type,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest())
        self.case["files"].append(template)

    def replace_first_pdf(self, data: bytes) -> None:
        """Swap the first listed PDF's bytes, keeping case.json's entry true to them."""
        entry = next(f for f in self.case["files"] if f["media_type"] == "application/pdf")
        (self.root / "files" / entry["path"]).write_bytes(data)
        entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
        entry.pop("sm3", None)
        entry.pop("pages", None)

    def finish(self) -> bytes:
        data = self.raw_case if self.raw_case is not None else (
            json.dumps(self.case, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        (self.root / "case.json").write_bytes(data)
        return data


def zip_tree(root: Path, dest: Path) -> Path:
    return Path(shutil.make_archive(str(dest.with_suffix("")), "zip", root))

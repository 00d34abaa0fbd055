"""Virus scanning: ClamAV when installed, else a built-in scanner that says it is limited.

A scanner that is absent must never look like a clean result (DA/T 70 GD-4-1/GD-4-2):
``ScanResult.clean`` is ``None`` when the file could not be assessed, and the built-in
scanner names itself "仅内置特征检测" so the report shows that only the EICAR test
signature (and nothing else) was looked for. ZIP-based files (OFD) are opened with
``safezip`` and each entry is scanned too.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import UnsafeContainer
from ..safezip import ZipLimits, inspect_zip, open_zip, read_member

# The 68-byte EICAR test file, assembled from parts so that this source file does not
# itself trip a scanner. A common miscopy drops the "$" before "H+H*" (a shell ate it);
# the built-in scanner recognises both spellings.
_EICAR_HEAD = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
EICAR = _EICAR_HEAD + b"$H+H*"
_EICAR_TAILS = (b"$H+H*", b"H+H*")
BUILTIN_ENGINE = "内置扫描器（仅内置特征检测）"
_CHUNK = 1 << 20
_NESTED_LIMITS = ZipLimits(max_entries=20_000, max_total_bytes=1 << 30, max_entry_bytes=512 << 20)


@dataclass(frozen=True)
class ScanResult:
    clean: bool | None  # None: could not assess
    engine: str
    signature_name: str | None = None
    message: str = ""


class VirusScanner(Protocol):
    name: str
    full_coverage: bool  # False: only a few built-in signatures are known

    def scan(self, path: Path) -> ScanResult: ...


def _has_eicar(data: bytes) -> bool:
    start = data.find(_EICAR_HEAD)
    while start >= 0:
        rest = data[start + len(_EICAR_HEAD):]
        if rest.startswith(_EICAR_TAILS):
            return True
        start = data.find(_EICAR_HEAD, start + 1)
    return False


def _file_has_eicar(path: Path) -> bool:
    overlap = len(EICAR)
    prev = b""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            if _has_eicar(prev + chunk):
                return True
            prev = chunk[-overlap:]
    return False


class BuiltinScanner:
    """Finds the EICAR test signature in a file and inside ZIP/OFD entries.

    It exists so the whole chain (scan → fail → reject) can be exercised anywhere; it is
    not an antivirus and says so.
    """

    name = BUILTIN_ENGINE
    full_coverage = False

    def scan(self, path: Path) -> ScanResult:
        path = Path(path)
        try:
            if _file_has_eicar(path):
                return ScanResult(False, self.name, "EICAR-Test-File", "发现 EICAR 测试病毒特征")
            if zipfile.is_zipfile(path):
                hit = self._scan_zip(path)
                if hit is not None:
                    return ScanResult(False, self.name, "EICAR-Test-File",
                                      f"压缩包条目“{hit}”中发现 EICAR 测试病毒特征")
        except UnsafeContainer as exc:
            return ScanResult(None, self.name, None, f"压缩包无法安全打开，未能扫描其内容：{exc.message}")
        except (OSError, zipfile.BadZipFile, EOFError, RuntimeError) as exc:
            return ScanResult(None, self.name, None, f"无法读取文件进行扫描：{exc}")
        return ScanResult(True, self.name, None, "未发现内置特征（仅内置特征检测，非完整病毒库）")

    def _scan_zip(self, path: Path) -> str | None:
        with open_zip(path) as zf:
            for info in inspect_zip(zf, _NESTED_LIMITS):
                if _has_eicar(read_member(zf, info, _NESTED_LIMITS)):
                    return info.filename
        return None


class ClamAVScanner:
    """ClamAV through ``clamdscan`` (daemon) or ``clamscan``; archives are scanned by ClamAV."""

    full_coverage = True

    def __init__(self, command: str | None = None, timeout: float = 300.0) -> None:
        self.command = command or shutil.which("clamdscan") or shutil.which("clamscan")
        if self.command is None:
            raise FileNotFoundError("未安装 ClamAV（找不到 clamdscan 或 clamscan）")
        self.timeout = timeout
        self.name = f"ClamAV（{Path(self.command).name}）"

    @classmethod
    def available(cls) -> bool:
        return bool(shutil.which("clamdscan") or shutil.which("clamscan"))

    def _run(self, command: str, path: Path) -> subprocess.CompletedProcess[str]:
        args = [command, "--no-summary", "--stdout"]
        if Path(command).name == "clamdscan":
            args.append("--fdpass")
        args.append(str(path))
        return subprocess.run(args, capture_output=True, text=True, timeout=self.timeout,
                              check=False)

    def scan(self, path: Path) -> ScanResult:
        try:
            proc = self._run(self.command, path)
            fallback = shutil.which("clamscan")
            if (proc.returncode not in (0, 1) and Path(self.command).name == "clamdscan"
                    and fallback):
                proc = self._run(fallback, path)  # daemon not running: scan in-process
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ScanResult(None, self.name, None, f"病毒扫描程序运行失败：{exc}")
        out = (proc.stdout or "").strip()
        if proc.returncode == 0:
            return ScanResult(True, self.name, None, "未发现病毒")
        if proc.returncode == 1:
            signature = None
            for line in out.splitlines():
                if line.endswith(" FOUND"):
                    signature = line.rsplit(":", 1)[-1].removesuffix(" FOUND").strip()
            return ScanResult(False, self.name, signature, f"发现病毒：{signature or out}")
        return ScanResult(None, self.name, None,
                          f"病毒扫描出错（返回码 {proc.returncode}）：{(proc.stderr or out).strip()}")


def default_scanner() -> VirusScanner:
    """ClamAV when it is installed, else the limited built-in scanner."""
    if ClamAVScanner.available():
        return ClamAVScanner()
    return BuiltinScanner()

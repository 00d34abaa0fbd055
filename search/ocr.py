"""OCR of digitized scans with the Tesseract command-line program (chi_sim + eng).

One subprocess per image file (a multi-page TIFF is one call), with a timeout. Whether
OCR can run is decided once per process and said in Chinese, so an item whose scan could
not be read records why instead of silently having no text.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .analysis import tidy
from .errors import OcrError

LANGS = ("chi_sim", "eng")
DEFAULT_TIMEOUT = 180.0


@dataclass(frozen=True)
class OcrStatus:
    available: bool
    reason: str  # Chinese; why OCR is unavailable ("" when available)
    binary: str | None = None
    langs: str = ""


@functools.lru_cache(maxsize=1)
def ocr_status() -> OcrStatus:
    """Is Tesseract with the Simplified Chinese model installed?"""
    binary = os.environ.get("DANGAN_TESSERACT") or shutil.which("tesseract")
    if not binary:
        return OcrStatus(False, "未安装 Tesseract OCR（tesseract），扫描件仅按元数据索引")
    try:
        out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return OcrStatus(False, f"无法运行 Tesseract：{exc}", binary)
    langs = {line.strip() for line in (out.stdout + out.stderr).splitlines()}
    if "chi_sim" not in langs:
        return OcrStatus(False, "Tesseract 未安装简体中文模型 chi_sim，扫描件仅按元数据索引", binary)
    use = "+".join(lang for lang in LANGS if lang in langs)
    return OcrStatus(True, "", binary, use)


def ocr_image(path: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Text of an image file (JPEG, PNG, TIFF incl. multi-page), normalised."""
    status = ocr_status()
    if not status.available:
        raise OcrError(status.reason)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one core per image; callers parallelise
    try:
        out = subprocess.run(
            [status.binary or "tesseract", str(path), "stdout", "-l", status.langs, "--psm", "3"],
            capture_output=True, timeout=timeout, check=False, env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"OCR 超时（{timeout:.0f} 秒）") from exc
    except OSError as exc:
        raise OcrError(f"无法运行 Tesseract：{exc}") from exc
    if out.returncode != 0:
        err = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"Tesseract 识别失败：{err[-1] if err else out.returncode}")
    return tidy(out.stdout.decode("utf-8", "replace")).strip()


def ocr_pdf_page_images(path: Path | str, page_numbers: list[int], *,
                        timeout: float = DEFAULT_TIMEOUT) -> dict[int, str]:
    """OCR the images drawn on the given (0-based) pages of a PDF; page → text.

    Image-only pages of a digitized PDF carry the scan as one (or a few) embedded
    images; each is written to a temporary PNG and read by Tesseract.
    """
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    texts: dict[int, str] = {}
    with tempfile.TemporaryDirectory(prefix="dangan-ocr-") as tmp:
        for n in page_numbers:
            parts: list[str] = []
            for i, image in enumerate(reader.pages[n].images):
                target = Path(tmp) / f"p{n}-{i}.png"
                image.image.save(target, format="PNG")
                parts.append(ocr_image(target, timeout=timeout))
            texts[n] = "\n".join(p for p in parts if p)
    return texts


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


def ocr_ofd_images(path: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """OCR the image resources of an OFD whose pages carry no text (a scanned OFD).

    The package is opened with the same safe ZIP checks as any other container.
    """
    from dangan.packages.safezip import inspect_zip, open_zip, read_member

    parts: list[str] = []
    with open_zip(path) as zf, tempfile.TemporaryDirectory(prefix="dangan-ocr-") as tmp:
        for i, info in enumerate(inspect_zip(zf)):
            if not info.filename.lower().endswith(IMAGE_SUFFIXES):
                continue
            target = Path(tmp) / f"img{i}{Path(info.filename).suffix.lower()}"
            target.write_bytes(read_member(zf, info))
            parts.append(ocr_image(target, timeout=timeout))
    return "\n".join(p for p in parts if p)

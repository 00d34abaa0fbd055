"""OCR of digitized scans: RapidOCR in process (default) or the Tesseract CLI (chi_sim + eng).

The engine is chosen by ``[ocr] engine`` in dangan.toml (``DANGAN_OCR_ENGINE`` wins);
``configure`` sets it for this process (the index feed calls it in every worker). When
the chosen engine is missing the other one is used and the status says so in Chinese,
so an item whose scan could not be read records why instead of silently having no text.
Tesseract runs one subprocess per image file (a multi-page TIFF is one call), with a
timeout; RapidOCR runs in process, one engine per worker process (``ocr_rapid``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from . import ocr_rapid
from .analysis import tidy
from .errors import OcrError

LANGS = ("chi_sim", "eng")
DEFAULT_TIMEOUT = 180.0
ENGINES = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "rapidocr"
_configured: list[str] = [DEFAULT_ENGINE]


@dataclass(frozen=True)
class OcrStatus:
    available: bool
    reason: str  # Chinese; why OCR is unavailable ("" when available)
    binary: str | None = None
    langs: str = ""  # what reads the scans, recorded in derived texts
    engine: str = ""  # rapidocr | tesseract ("" when none is available)
    note: str = ""  # Chinese; why the configured engine is not the one in use


def configure(engine: str | None) -> None:
    """Choose this process's OCR engine (``None``: the default)."""
    name = (engine or DEFAULT_ENGINE).strip().lower()
    if name not in ENGINES:
        raise OcrError(f"未知的 OCR 引擎 {engine!r}，可选：{'、'.join(ENGINES)}")
    if _configured[0] == name:
        return
    _configured[0] = name
    ocr_status.cache_clear()


def requested_engine() -> str:
    env = (os.environ.get("DANGAN_OCR_ENGINE") or "").strip().lower()
    return env if env in ENGINES else _configured[0]


@functools.lru_cache(maxsize=1)
def tesseract_status() -> OcrStatus:
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
    return OcrStatus(True, "", binary, use, "tesseract")


@functools.lru_cache(maxsize=1)
def ocr_status() -> OcrStatus:
    """The engine this process uses, falling back to the other one with a note."""
    want = requested_engine()
    rapid_missing = ocr_rapid.available()
    if want == "rapidocr" and not rapid_missing:
        return OcrStatus(True, "", None, ocr_rapid.MODEL_LABEL, "rapidocr")
    tess = tesseract_status()
    if want == "tesseract":
        if tess.available or rapid_missing:
            return tess
        return OcrStatus(True, "", None, ocr_rapid.MODEL_LABEL, "rapidocr",
                         f"{tess.reason}；改用 RapidOCR")
    note = f"{rapid_missing}，改用 Tesseract（姓名识别率较低）"
    if tess.available:
        return OcrStatus(True, "", tess.binary, tess.langs, "tesseract", note)
    return OcrStatus(False, f"{rapid_missing}；{tess.reason}", tess.binary)


def _require() -> OcrStatus:
    status = ocr_status()
    if not status.available:
        raise OcrError(status.reason)
    return status


def _tesseract(path: Path | str, status: OcrStatus, timeout: float) -> str:
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


def _rapid_frames(image: Image.Image) -> str:
    try:
        parts = [ocr_rapid.read(frame) for frame in ImageSequence.Iterator(image)]
    except ValueError as exc:
        raise OcrError(f"无法识别扫描图像：{exc}") from exc
    except ImportError as exc:  # installed but broken (a missing shared library)
        raise OcrError(f"无法加载 RapidOCR：{exc}") from exc
    return tidy("\n".join(p for p in parts if p)).strip()


def ocr_image(path: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Text of an image file (JPEG, PNG, TIFF incl. multi-page), normalised."""
    status = _require()
    if status.engine == "tesseract":
        return _tesseract(path, status, timeout)
    try:
        with Image.open(path) as image:
            return _rapid_frames(image)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise OcrError(f"无法读取扫描图像：{exc}") from exc


def ocr_pil(image: Image.Image, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Text of a decoded image (a page image taken out of a PDF)."""
    status = _require()
    if status.engine != "tesseract":
        return _rapid_frames(image)
    with tempfile.TemporaryDirectory(prefix="dangan-ocr-") as tmp:
        target = Path(tmp) / "page.png"
        image.save(target, format="PNG")
        return _tesseract(target, status, timeout)


def ocr_pdf_page_images(path: Path | str, page_numbers: list[int], *,
                        timeout: float = DEFAULT_TIMEOUT) -> dict[int, str]:
    """OCR the images drawn on the given (0-based) pages of a PDF; page → text.

    Image-only pages of a digitized PDF carry the scan as one (or a few) embedded
    images; each is decoded and read by the engine in use.
    """
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    texts: dict[int, str] = {}
    for n in page_numbers:
        parts = [ocr_pil(image.image, timeout=timeout) for image in reader.pages[n].images]
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

"""Opening JPEG, TIFF and PNG files fully, so truncation and bombs are found at filing.

Reading only the header (what most tools do) says nothing about whether the pixels are
there: a scan cut off in transfer still reports its size. ``inspect_image`` decodes
every frame with ``load()`` and never sets ``ImageFile.LOAD_TRUNCATED_IMAGES``, so a
truncated file fails here and not years later when someone opens it. Decompression
bombs are refused before decoding.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

# Large enough for an A0 sheet scanned at 400 dpi; beyond that we refuse to decode.
MAX_PIXELS = 300_000_000
MAX_FRAMES = 2_000
_TIFF_XRES, _TIFF_YRES, _TIFF_RESUNIT = 282, 283, 296

# TIFF compressions that are public and widely decodable (baseline + common extensions).
ARCHIVAL_TIFF_COMPRESSIONS = frozenset({
    "raw", "tiff_ccitt", "group3", "group4", "tiff_lzw", "jpeg", "tiff_adobe_deflate",
    "tiff_deflate", "packbits",
})

if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass
class ImageInfo:
    format: str | None = None  # Pillow's name: JPEG, TIFF, PNG …
    width: int = 0
    height: int = 0
    mode: str | None = None
    dpi: tuple[float, float] | None = None
    frames: int = 0
    compression: str | None = None  # TIFF: Pillow's name of the Compression tag (259)
    fully_decoded: bool = False
    truncated: bool = False
    problems: list[str] = field(default_factory=list)


def _rational(value: object) -> float | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            return float(value[0]) / float(value[1]) if value[1] else None
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _tiff_dpi(im: Image.Image) -> tuple[float, float] | None:
    """TIFF resolution from the tags themselves: unit 2 = inch, 3 = centimetre."""
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    x, y = _rational(tags.get(_TIFF_XRES)), _rational(tags.get(_TIFF_YRES))
    if not x or not y:
        return None
    unit = tags.get(_TIFF_RESUNIT, 2)
    if unit == 3:
        return (round(x * 2.54, 1), round(y * 2.54, 1))
    if unit == 2:
        return (round(x, 1), round(y, 1))
    return None  # unit 1: no absolute unit, only an aspect ratio


def _dpi(im: Image.Image) -> tuple[float, float] | None:
    if im.format == "TIFF":
        return _tiff_dpi(im)
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    x, y = _rational(dpi[0]), _rational(dpi[1])
    if not x or not y:
        return None
    return (round(x, 1), round(y, 1))


def jpeg_has_eoi(path: Path) -> bool:
    """A complete JPEG ends with the EOI marker (FF D9), possibly followed by padding."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read()
    return b"\xff\xd9" in tail


def inspect_image(path: Path | str) -> ImageInfo:
    """Decode every frame of an image; problems are listed, never raised."""
    p = Path(path)
    info = ImageInfo()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                info.format = im.format
                info.width, info.height = im.size
                info.mode = im.mode
                info.dpi = _dpi(im)
                if im.format == "TIFF":
                    info.compression = im.info.get("compression")
                n_frames = int(getattr(im, "n_frames", 1) or 1)
                if n_frames > MAX_FRAMES:
                    info.problems.append(f"图像帧数过多（{n_frames}），超过上限 {MAX_FRAMES}")
                    return info
                for index in range(n_frames):
                    im.seek(index)
                    if im.size[0] * im.size[1] > MAX_PIXELS:
                        info.problems.append(
                            f"第 {index + 1} 帧像素数 {im.size[0]}×{im.size[1]} 超过上限，疑似解压炸弹"
                        )
                        return info
                    im.load()
                    info.frames += 1
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        info.problems.append(f"图像像素数异常，疑似解压炸弹：{exc}")
        return info
    except UnidentifiedImageError:
        info.problems.append("无法识别为图像文件")
        return info
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        if "truncated" in text or isinstance(exc, EOFError):
            info.truncated = True
            info.problems.append(f"图像数据不完整（文件被截断）：{text}")
        else:
            info.problems.append(f"图像无法解码：{text}")
        return info
    info.fully_decoded = info.frames > 0
    if info.format == "JPEG" and not jpeg_has_eoi(p):
        info.truncated = True
        info.fully_decoded = False
        info.problems.append("JPEG 文件缺少结束标记（EOI），文件可能被截断")
    if info.width == 0 or info.height == 0:
        info.fully_decoded = False
        info.problems.append("图像尺寸为 0")
    return info

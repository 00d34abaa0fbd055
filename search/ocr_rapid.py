"""OCR in process with RapidOCR (PP-OCRv4 detector and recogniser on ONNX Runtime).

Why this engine: on the demo's labelled scans it finds every name and ID number where
Tesseract chi_sim misses about half the names (``bench/ocr.py``, docs/performance.md).
The models ship inside the ``rapidocr-onnxruntime`` wheel, so nothing is downloaded at
run time. One engine is loaded per process (on first use) and kept; a pool of worker
processes, one per core, each running one single-threaded engine, uses the cores
better than one engine with many threads.

Tuning (measured with ``bench/ocr.py``): pages are upright, so the angle classifier is
off; the page is scaled to 1280 px on its long side before detection and recognition
(an A4 page at 200 dpi is 2339 px; text of 8.5 pt stays legible at 1280 px), which cuts
the detector's work by two thirds at no loss of names or ID numbers.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from PIL import Image

MAX_SIDE_LEN = 1280
MAX_PIXELS = 80_000_000  # a scan larger than this is refused, not decoded
OPTIONS: dict[str, Any] = {"use_cls": False, "max_side_len": MAX_SIDE_LEN,
                           "intra_op_num_threads": 1, "inter_op_num_threads": 1}
MODEL_LABEL = "rapidocr:ch_PP-OCRv4"


def available() -> str:
    """"" when the package imports, else the Chinese reason it cannot be used."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"未安装 rapidocr-onnxruntime（{exc.name}）"
    return ""


@functools.lru_cache(maxsize=4)
def engine(**overrides: Any) -> Any:
    """This process's engine (loaded once per option set); options as in ``OPTIONS``."""
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    cv2.setNumThreads(int(os.environ.get("DANGAN_OCR_THREADS", "1")))
    options = dict(OPTIONS, **overrides)
    threads = int(os.environ.get("DANGAN_OCR_THREADS", options["intra_op_num_threads"]))
    options["intra_op_num_threads"] = threads
    return RapidOCR(**options)


def read(image: Image.Image, **overrides: Any) -> str:
    """Text lines of one page image, top to bottom (one line per detected text box)."""
    import numpy as np

    if image.width * image.height > MAX_PIXELS:
        raise ValueError(f"图像过大（{image.width}×{image.height} 像素）")
    rgb = image.convert("RGB")
    array = np.asarray(rgb)[:, :, ::-1]  # RapidOCR expects OpenCV's BGR order
    result, _ = engine(**overrides)(np.ascontiguousarray(array))
    return "\n".join(str(r[1]) for r in result or [])

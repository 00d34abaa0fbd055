"""OCR in process with RapidOCR (PP-OCRv4 detector and recogniser on ONNX Runtime).

Why this engine: on the demo's labelled scans it finds every name and ID number where
Tesseract chi_sim misses about half the names (``bench/ocr.py``, docs/performance.md).
The models ship inside the ``rapidocr-onnxruntime`` wheel, so nothing is downloaded at
run time. One engine is loaded per process (on first use) and kept; a pool of worker
processes, one per core, each running one single-threaded engine, uses the cores
better than one engine with many threads.

Tuning (measured with ``bench/ocr.py``): pages are upright, so the angle classifier is
off. The detector, the costly half, sees the page scaled to ``DET_SIDE`` px on its long
side (an A4 page at 200 dpi is 2339 px); the recogniser reads each found line cropped
from the full-resolution page, so small print (8.5 pt on an ID card) keeps its detail.
On the 30 labelled pages: at 960 px CER 0.019 and every name and ID number found, at
2000 px (the package default) no better and twice the detector's time; scaling the
whole page to 1280 px instead lost whole lines. This drives the package's detector,
crop and recogniser steps directly (``RapidOCR.__call__`` offers no separate detector
scale); ``tests/search/test_ocr_accuracy.py`` fails if a new release changes them.
Lines are recognised one at a time (``rec_batch_num`` 1): a batch pads every crop to
its widest line, and a page's lines run from one character to the full width, so on a
CPU batching costs more than it saves (0.90 against 1.48 CPU s/page, same text).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from PIL import Image

DET_SIDE = 960
TEXT_SCORE = 0.5  # recogniser confidence below which a line is dropped (package default)
MAX_PIXELS = 80_000_000  # a scan larger than this is refused, not decoded
OPTIONS: dict[str, Any] = {"use_cls": False, "intra_op_num_threads": 1,
                           "inter_op_num_threads": 1, "rec_batch_num": 1}
MODEL_LABEL = "rapidocr:ch_PP-OCRv4"


def available() -> str:
    """Empty when the package is installed, else the Chinese reason it cannot be used.

    Looked up without importing it: a filing process that never OCRs need not load
    ONNX Runtime and OpenCV.
    """
    from importlib.util import find_spec

    for module in ("rapidocr_onnxruntime", "onnxruntime", "cv2"):
        if find_spec(module) is None:
            return f"未安装 rapidocr-onnxruntime（缺少 {module}）"
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


def read(image: Image.Image, *, det_side: int = DET_SIDE, **overrides: Any) -> str:
    """Text lines of one page image, top to bottom (one line per detected text box).

    ``det_side`` 0 runs the package's own pipeline (``overrides`` as its options).
    """
    import numpy as np

    if image.width * image.height > MAX_PIXELS:
        raise ValueError(f"图像过大（{image.width}×{image.height} 像素）")
    full = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # OpenCV's BGR
    ocr = engine(**overrides)
    if not det_side:
        result, _ = ocr(full)
        return "\n".join(str(r[1]) for r in result or [])
    return "\n".join(_lines(ocr, full, det_side))


def _lines(ocr: Any, full: Any, det_side: int) -> list[str]:
    """Detect on the page scaled to ``det_side``, recognise crops of the full page."""
    import cv2
    import numpy as np

    h, w = full.shape[:2]
    scale = min(1.0, det_side / max(h, w))
    small = full if scale == 1.0 else cv2.resize(
        full, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    boxes, _ = ocr.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    boxes = np.array(ocr.sorted_boxes(boxes), dtype=np.float32) / scale
    crops = ocr.get_crop_img_list(full, boxes)
    if ocr.use_cls:
        crops, _, _ = ocr.text_cls(crops)
    recognised, _ = ocr.text_rec(crops, False)
    return [str(r[0]) for r in recognised if r[1] >= TEXT_SCORE and str(r[0]).strip()]

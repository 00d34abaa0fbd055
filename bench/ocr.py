"""OCR engines side by side on labelled demo scans; today's Tesseract CLI is the baseline.

Rerun: ``.venv/bin/python bench/ocr.py [--pages 30] [--workers 2]
[--engines tesseract-cli,tesserocr,rapidocr-default,rapidocr]``

Pages come from ``dangan.ingest.demo.ocr_truth`` (half ID-card copies, half certificates
and other paper evidence, 200 dpi JPEG as the demo files them). Each engine runs in the
production layout: ``--workers`` spawned processes, one engine loaded once per process.
An engine name may carry RapidOCR options to try, e.g. ``rapidocr:det_side=1280`` or
``rapidocr:use_cls=true`` (``det_side=0``: the package's own pipeline).

Scores (strings compared without whitespace, NFKC on both sides):
- names / ID numbers / ID-card fields / certificate lines: drawn strings found verbatim;
- CER: each drawn line against its best-matching stretch of the OCR text (edit distance,
  so reading order does not count), summed over lines / drawn characters;
- CPU s/page: process time of the worker (and of its Tesseract children) per page;
- pages/s: wall time from the first page started to the last finished (engine loaded);
- peak RSS: the largest worker (for the CLI: the largest Tesseract child).
Wall figures depend on what else runs; the machine's load average is printed with them.
Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dangan.ingest.demo.ocr_truth import LabelledPage, labelled_pages, score_pages

DEFAULT_ENGINES = "tesseract-cli,tesserocr,rapidocr-default,rapidocr"
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
_reader: Any = None


def _options(spec: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in spec.split(":")[1:]:
        key, _, value = part.partition("=")
        out[key] = {"true": True, "false": False}.get(value.lower(), value)
        if isinstance(out[key], str) and out[key].lstrip("-").isdigit():
            out[key] = int(out[key])
    return out


def _load(spec: str) -> Any:
    """A function image-bytes → text for ``spec``, loaded once in this worker."""
    name = spec.split(":")[0]
    if name == "tesseract-cli":
        from dangan.search.ocr import _tesseract, tesseract_status

        status = tesseract_status()

        def cli(data: bytes) -> str:
            with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
                f.write(data)
                f.flush()
                return _tesseract(f.name, status, 300)
        return cli
    if name == "tesserocr":
        import tesserocr
        from PIL import Image

        api = tesserocr.PyTessBaseAPI(path=os.environ.get("TESSDATA_PREFIX", TESSDATA),
                                      lang="chi_sim+eng", psm=tesserocr.PSM.AUTO)

        def in_process(data: bytes) -> str:
            import io
            api.SetImage(Image.open(io.BytesIO(data)))
            return api.GetUTF8Text()
        return in_process
    if name in ("rapidocr", "rapidocr-default"):
        import io

        from PIL import Image

        from dangan.search import ocr_rapid

        overrides = _options(spec)
        if name == "rapidocr-default":  # the package's own pipeline, one thread per worker
            overrides = {"use_cls": True, "det_side": 0, "rec_batch_num": 6, **overrides}
        ocr_rapid.engine(**{k: v for k, v in overrides.items() if k != "det_side"})

        def rapid(data: bytes) -> str:
            return ocr_rapid.read(Image.open(io.BytesIO(data)), **overrides)
        return rapid
    raise SystemExit(f"unknown engine {spec!r}")


def _init(spec: str) -> None:
    global _reader
    _reader = _load(spec)


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _work(item: tuple[str, bytes]) -> dict[str, Any]:
    key, data = item
    start, cpu = time.time(), _cpu()
    text = _reader(data)
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"key": key, "text": text, "cpu": _cpu() - cpu, "start": start, "end": time.time(),
            "rss_mb": rss / 1024, "pid": os.getpid()}


def run_engine(spec: str, pages: list[LabelledPage], workers: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Pool(workers, initializer=_init, initargs=(spec,)) as pool:
        pool.map(time.sleep, [0.2] * workers, chunksize=1)  # every worker up, engine loaded
        ready = time.perf_counter() - t0
        results = pool.map(_work, [(p.key, p.jpeg) for p in pages], chunksize=1)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    out = score_pages(pages, {r["key"]: r["text"] for r in results})
    out.update(cpu_s_per_page=round(sum(r["cpu"] for r in results) / len(pages), 3),
               pages_per_s_wall=round(len(pages) / wall, 3),
               peak_rss_mb_per_worker=round(max(r["rss_mb"] for r in results)),
               startup_wall_s=round(ready, 2), workers=workers)
    return out


def available(spec: str) -> str:
    """Empty, or why ``spec`` cannot run here."""
    name = spec.split(":")[0]
    if name == "tesseract-cli":
        from dangan.search.ocr import tesseract_status
        return tesseract_status().reason
    if name == "tesserocr":
        try:
            import tesserocr  # noqa: F401
        except ImportError:
            return "tesserocr not installed (pip install tesserocr)"
        return ""
    from dangan.search import ocr_rapid
    return ocr_rapid.available()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default=DEFAULT_ENGINES)
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    pages = list(labelled_pages(args.pages, seed=args.seed))
    results: dict[str, Any] = {}
    for spec in [s.strip() for s in args.engines.split(",") if s.strip()]:
        why = available(spec)
        results[spec] = {"skipped": why} if why else run_engine(spec, pages, args.workers)
        print(f"# {spec}: {json.dumps(results[spec], ensure_ascii=False)}", file=sys.stderr,
              flush=True)
    head = ("engine", "names", "ID no.", "card fields", "cert lines", "CER", "CPU s/p",
            "p/s wall", "RSS MB")
    print("{:<34} {:>7} {:>7} {:>11} {:>10} {:>7} {:>8} {:>8} {:>7}".format(*head))
    for spec, r in results.items():
        if "skipped" in r:
            print(f"{spec:<34} skipped: {r['skipped']}")
            continue
        print(f"{spec:<34} {r['names']:>7} {r['id_numbers']:>7} {r['id_card_fields']:>11} "
              f"{r['certificate_lines']:>10} {r['cer']:>7.3f} {r['cpu_s_per_page']:>8.2f} "
              f"{r['pages_per_s_wall']:>8.2f} {r['peak_rss_mb_per_worker']:>7}")
    rerun = (f".venv/bin/python bench/ocr.py --pages {args.pages} --workers {args.workers} "
             f"--engines {args.engines}")
    print(f"rerun: {rerun}")
    print(json.dumps({"bench": "ocr", "pages": len(pages), "workers": args.workers,
                      "seed": args.seed, "baseline": "tesseract-cli",
                      "loadavg": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
                      "engines": results, "rerun": rerun}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

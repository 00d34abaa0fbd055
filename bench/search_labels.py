"""Build the labelled query set for search accuracy from a demo archive's ground truth.

Rerun: ``.venv/bin/python bench/search_labels.py --home dangan-data --out tests/search/labelled.json``
then score: ``.venv/bin/python bench/search.py --labels tests/search/labelled.json --index dangan-data/index``

Expected hits never come from the search engine: they come from the catalogue (parties,
IDs, case ids, service items, years), from pypdf's own text of the stored PDFs, and for
phrases read off scans from the stored OCR text (``derived/``; so those queries test that
OCR text is retrievable, not OCR accuracy). Queries are typed as a clerk types them:
names in 汉字 and pinyin, full IDs and their last six digits, credit codes, unit names,
case numbers, quoted phrases, and words with filters.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from pypinyin import lazy_pinyin
from sqlalchemy import select

from dangan.archive.instance import Archive
from dangan.archive.models import Item, ItemFile, Party
from dangan.packages.formats.pdf import extract_text

ALL = ["public", "internal", "restricted"]


def _phrases(text: str, rng: random.Random, n: int) -> list[str]:
    """Runs of 6–10 CJK characters from a text (clerks quote what they read)."""
    runs = [m.group(0) for m in re.finditer(r"[\u4e00-\u9fff]{8,}", text)]
    rng.shuffle(runs)
    out = []
    for run in runs[:n]:
        size = rng.randint(6, min(10, len(run)))
        start = rng.randint(0, len(run) - size)
        out.append(run[start:start + size])
    return out


def build(home: Path, seed: int = 7) -> dict:
    archive = Archive.open(home, upgrade=False)
    rng = random.Random(seed)
    with archive.db.session() as s:
        items = list(s.scalars(select(Item).where(Item.status == "active")))
        parties = list(s.scalars(select(Party)))
        files = list(s.scalars(select(ItemFile)))
    active = {i.aip_id: i for i in items}
    by_name: dict[str, set[str]] = defaultdict(set)
    by_pinyin: dict[str, set[str]] = defaultdict(set)
    by_id: dict[str, set[str]] = defaultdict(set)
    persons, units = set(), set()
    for p in parties:
        if p.aip_id not in active:
            continue
        by_name[p.name].add(p.aip_id)
        by_id[p.id_number].add(p.aip_id)
        if p.kind == "person":
            by_pinyin["".join(lazy_pinyin(p.name))].add(p.aip_id)
            persons.add((p.name, p.id_number))
        else:
            units.add((p.name, p.id_number))
    queries: list[dict] = []

    def add(query: str, expected: set[str], kind: str, filters: dict | None = None) -> None:
        if expected:
            queries.append({"query": query, "class": kind, "filters": filters or {},
                            "access": ALL, "expected": sorted(expected)})

    for name, _ in rng.sample(sorted(persons), 12):
        add(name, by_name[name], "name")
        pinyin = "".join(lazy_pinyin(name))
        add(pinyin, by_pinyin[pinyin], "pinyin")
    for _, number in rng.sample(sorted(persons), 8):
        add(number, by_id[number], "id")
        suffix = number[-6:]
        add(suffix, {a for n, ids in by_id.items() if n.endswith(suffix) for a in ids},
            "id_suffix")
    for name, code in rng.sample(sorted(units), 6):
        add(code, by_id[code], "credit_code")
        add(name, by_name[name], "unit_name")
    for item in rng.sample(items, 6):
        add(item.case_id, {i.aip_id for i in items if i.case_id == item.case_id}, "case_id")
    for item in rng.sample(items, 6):
        add(item.service_item_name, {i.aip_id for i in items
                                     if i.service_item_code == item.service_item_code
                                     and i.year == item.year},
            "item_with_year", {"year": str(item.year)})
    pdf_text: dict[str, str] = {}
    for f in files:
        if f.aip_id in active and f.media_type == "application/pdf":
            try:
                text = "".join(extract_text(archive.store.path(f.aip_id) / f.path))
            except Exception:  # noqa: BLE001 - an unreadable PDF just gives no phrases
                continue
            pdf_text[f.aip_id] = pdf_text.get(f.aip_id, "") + re.sub(r"\s+", "", text)
    for aip_id in rng.sample(sorted(pdf_text), 8):
        for phrase in _phrases(pdf_text[aip_id], rng, 1):
            add(f'"{phrase}"', {a for a, t in pdf_text.items() if phrase in t}, "pdf_phrase")
    ocr_text: dict[str, str] = {}
    for path in sorted((home / "derived").glob("*.json")):
        body = json.loads(path.read_text("utf-8"))
        scans = "".join(t["text"] for t in body["texts"] if t.get("method") == "ocr")
        if scans and body["aip_id"] in active:
            ocr_text[body["aip_id"]] = re.sub(r"\s+", "", scans)
    for aip_id in rng.sample(sorted(ocr_text), min(8, len(ocr_text))):
        for phrase in _phrases(ocr_text[aip_id], rng, 1):
            if phrase in pdf_text.get(aip_id, ""):
                continue  # keep only phrases that only a scan carries
            add(f'"{phrase}"', {a for a, t in ocr_text.items() if phrase in t}
                | {a for a, t in pdf_text.items() if phrase in t}, "scan_phrase")
    return {"corpus": "dangan demo (seed 20261123)", "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    labels = build(args.home)
    args.out.write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", "utf-8")
    classes: dict[str, int] = defaultdict(int)
    for q in labels["queries"]:
        classes[q["class"]] += 1
    print(f"{len(labels['queries'])} labelled queries: {dict(classes)} → {args.out}")


if __name__ == "__main__":
    main()

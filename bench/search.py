"""Search benchmark: Whoosh + jieba (dangan.search) against SQLite FTS5 (trigram), same corpus.

Rerun: ``.venv/bin/python bench/search.py [--items 100000] [--procs 2] [--queries 40]
[--limitmb 2048]``
Score a labelled query set over an existing index instead:
``.venv/bin/python bench/search.py --labels tests/search/labelled.json --index DIR``

What it does, in one run:
1. generates ``--items`` synthetic archive items (bench/search_corpus.py);
2. builds the Whoosh index through ``WhooshEngine.reindex`` (``--procs`` processes) and
   the same items into one SQLite FTS5 table with the trigram tokenizer: items/s, MB;
3. runs ``--queries`` queries per class (ID exact, ID suffix, Chinese name, pinyin name,
   two words + year/item filters, quoted phrase) against both, as a clerk allowed to see
   public and internal items: median and p95 latency. Whoosh is timed through the public
   API (top 10, total, 9 facet counts, highlights, access rule); FTS5 does top 10 by bm25
   plus the total, without facets or highlights;
4. scores both against ground truth computed from the generated data (precision@10 and
   recall@100 per class), and compares with the goals of issue 5.
The table is printed first; the last line is one JSON object with unit-suffixed keys.

Labelled set format (``--labels``): ``{"queries": [{"query": "zhangsan", "filters":
{"year": "2024"}, "access": ["public", "internal"], "expected": ["<aip_id, archival code
or case id>", ...]}, ...]}``. precision@10 = relevant among the first 10 hits / hits
shown (0 when nothing is shown); recall = expected found in the first 100 / expected.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import generate  # noqa: E402

from dangan.search import Access, IndexDocument  # noqa: E402
from dangan.search.analysis import name_pinyin  # noqa: E402
from dangan.search.service import SearchService  # noqa: E402
from dangan.search.whoosh_engine import WhooshEngine  # noqa: E402

RERUN = ".venv/bin/python bench/search.py [--items N] [--procs P] [--queries Q] [--limitmb MB]"
CLERK = Access.of(["public", "internal"])
GOALS_MS = {"id_exact": 50, "id_suffix": 50, "name_cn": 50, "name_pinyin": 50,
            "words_filters": 200, "phrase": 500}
WORDS = ("失业保险金", "劳动合同", "缴费基数", "行政复议", "丧葬补助金", "参保登记表", "事故伤害",
         "个人账户", "劳动能力鉴定", "转移接续", "户籍", "医疗诊断")
_CLAUSE_RE = re.compile(r"[^，。、《》（）；：,.\s]{8,}")


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# -- ground truth and queries ------------------------------------------------------------

def _visible(d: IndexDocument) -> bool:
    return d.security_classification in ("public", "internal")


def _haystack(d: IndexDocument) -> str:
    return "\n".join([d.title, *(p["name"] for p in d.parties), *(t.text for t in d.texts)])


def make_queries(docs: list[IndexDocument], per_class: int, seed: int = 11) -> list[dict]:
    """Queries per class with the set of aip ids a perfect engine returns for a clerk."""
    rng = random.Random(seed)
    vis = [d for d in docs if _visible(d)]
    by_id: dict[str, set[str]] = {}
    by_name: dict[str, set[str]] = {}
    by_pinyin: dict[str, set[str]] = {}
    for d in vis:
        for p in d.parties:
            by_id.setdefault(p["id_number"], set()).add(d.aip_id)
            by_name.setdefault(p["name"], set()).add(d.aip_id)
            for key in name_pinyin(p["name"], person=p["kind"] != "unit")[:1]:
                by_pinyin.setdefault(key, set()).add(d.aip_id)
    out: list[dict] = []
    for _ in range(per_class):
        d = rng.choice(vis)
        person = d.parties[0]
        number = person["id_number"]
        out.append({"cls": "id_exact", "query": number, "expected": by_id[number]})
        suffix = number[-6:]
        out.append({"cls": "id_suffix", "query": suffix,
                    "expected": {a for n, s in by_id.items() if n.endswith(suffix) for a in s}})
        out.append({"cls": "name_cn", "query": person["name"], "expected": by_name[person["name"]]})
        key = name_pinyin(person["name"])[0]
        out.append({"cls": "name_pinyin", "query": key, "expected": by_pinyin[key]})
        w1, w2 = rng.sample(WORDS, 2)
        filters = {"year": str(d.year), "item": d.service_item_code}
        exp = {x.aip_id for x in vis if x.year == d.year and x.service_item_code ==
               d.service_item_code and w1 in (h := _haystack(x)) and w2 in h}
        out.append({"cls": "words_filters", "query": f"{w1} {w2}", "filters": filters,
                    "expected": exp})
        clause = rng.choice(_CLAUSE_RE.findall(d.texts[0].text))
        start = rng.randrange(0, len(clause) - 5)
        phrase = clause[start:start + rng.randrange(6, 11)]
        out.append({"cls": "phrase", "query": f'"{phrase}"',
                    "expected": {x.aip_id for x in vis if phrase in _haystack(x)}})
    return out


def precision_recall(ranked: list[str], expected: set[str]) -> tuple[float, float]:
    top = ranked[:10]
    precision = sum(1 for a in top if a in expected) / len(top) if top else 0.0
    if not expected:
        return (1.0 if not top else precision), 1.0
    recall = sum(1 for a in ranked[:100] if a in expected) / min(len(expected), 100)
    return precision, recall


# -- the two engines ---------------------------------------------------------------------

def build_whoosh(docs: list[IndexDocument], home: Path, procs: int,
                 limitmb: int) -> tuple[WhooshEngine, dict]:
    engine = WhooshEngine(home, limitmb=limitmb)
    t = time.perf_counter()
    engine.reindex(iter(docs), procs=procs)
    secs = time.perf_counter() - t
    gen = engine.home.current()
    return engine, {"seconds": secs, "rate": len(docs) / secs, "mb": dir_mb(gen)}


def whoosh_ranked(engine: WhooshEngine, q: dict) -> tuple[list[str], int]:
    ids: list[str] = []
    total = 0
    for page in (1, 2):  # 100 hits for recall
        r = engine.search(q["query"], filters=q.get("filters"), page=page, page_size=50,
                          access=q.get("access", CLERK))
        total = r.total
        ids += [h.aip_id for h in r.hits]
        if len(r.hits) < 50:
            break
    return ids, total


def build_fts(docs: list[IndexDocument], path: Path) -> tuple[sqlite3.Connection, dict]:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(aip_id UNINDEXED, title, names, ids, pinyin, "
               "body, item UNINDEXED, year UNINDEXED, security UNINDEXED, tokenize='trigram')")
    t = time.perf_counter()
    rows = ((d.aip_id, d.title, " ".join(d.names), " ".join(d.id_numbers),
             " ".join(k for p in d.parties for k in name_pinyin(p["name"])),
             "\n".join(x.text for x in d.texts), d.service_item_code, str(d.year),
             d.security_classification) for d in docs)
    with db:
        db.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    db.commit()
    secs = time.perf_counter() - t
    return db, {"seconds": secs, "rate": len(docs) / secs, "mb": path.stat().st_size / 1e6}


def _fts_quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def fts_ranked(db: sqlite3.Connection, q: dict) -> tuple[list[str], int]:
    """The FTS5 formulation of each class (trigram: at least 3 characters, else LIKE)."""
    text = q["query"].strip('"')
    where, args = ["security IN ('public','internal')"], []
    cls = q["cls"]
    if cls in ("id_exact", "id_suffix"):
        where.append("fts MATCH ?")
        args.append(f"ids:{_fts_quote(text)}")
    elif cls == "name_cn":
        if len(text) >= 3:
            where.append("fts MATCH ?")
            args.append(f"names:{_fts_quote(text)}")
        else:
            where.append("names LIKE ?")
            args.append(f"%{text}%")
    elif cls == "name_pinyin":
        where.append("fts MATCH ?")
        args.append(f"pinyin:{_fts_quote(text)}")
    elif cls == "words_filters":
        where.append("fts MATCH ?")
        args.append(" AND ".join(_fts_quote(w) for w in text.split()))
        for k, v in q.get("filters", {}).items():
            where.append(f"{k} = ?")
            args.append(v)
    else:
        where.append("fts MATCH ?")
        args.append(_fts_quote(text))
    sql_where = " AND ".join(where)
    order = "ORDER BY rank" if any("MATCH" in w for w in where) else ""
    ids = [r[0] for r in db.execute(f"SELECT aip_id FROM fts WHERE {sql_where} {order} LIMIT 100",
                                    args)]
    total = db.execute(f"SELECT count(*) FROM fts WHERE {sql_where}", args).fetchone()[0]
    return ids, total


# -- measuring ---------------------------------------------------------------------------

def measure(run: Callable[[dict], tuple[list[str], int]], queries: list[dict],
            timed: Callable[[dict], object]) -> dict[str, dict[str, float]]:
    """Per class: median/p95 latency of ``timed`` and mean precision@10 / recall@100."""
    for q in queries[:12]:  # warm caches
        timed(q)
    out: dict[str, dict[str, float]] = {}
    for cls in GOALS_MS:
        qs = [q for q in queries if q["cls"] == cls]
        lat, prec, rec = [], [], []
        for q in qs:
            t = time.perf_counter()
            timed(q)
            lat.append((time.perf_counter() - t) * 1000)
            ranked, _total = run(q)
            p, r = precision_recall(ranked, q["expected"])
            prec.append(p)
            rec.append(r)
        lat.sort()
        out[cls] = {"median_ms": statistics.median(lat),
                    "p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))],
                    "p_at_10": statistics.mean(prec), "recall": statistics.mean(rec)}
    return out


def score_labelled(search: Callable[[str, dict, Access], list[dict]], labelled: dict) -> dict:
    """precision@10 and recall over a labelled set; ``search`` returns hit dicts."""
    per: list[dict] = []
    for item in labelled["queries"]:
        access = Access.of(item.get("access", ["public", "internal", "restricted"]))
        hits = search(item["query"], item.get("filters") or {}, access)
        keys = [{h["aip_id"], h.get("archival_code"), h.get("case_id")} for h in hits]
        expected = set(item["expected"])
        ranked = [next(iter(k & expected), h["aip_id"]) for k, h in zip(keys, hits, strict=True)]
        p, r = precision_recall(ranked, expected)
        per.append({"query": item["query"], "p_at_10": p, "recall": r})
    misses = [x for x in per if x["p_at_10"] < 1 or x["recall"] < 1]
    return {"queries": len(per), "p_at_10": statistics.mean(x["p_at_10"] for x in per),
            "recall": statistics.mean(x["recall"] for x in per), "imperfect": misses}


def run_labels(labels: Path, index: Path) -> dict:
    svc = SearchService.at(index)

    def search(query: str, filters: dict, access: Access) -> list[dict]:
        out = []
        for page in (1, 2):
            r = svc.search(query, filters=filters, page=page, page_size=50, access=access)
            out += [{"aip_id": h.aip_id, "archival_code": h.archival_code,
                     "case_id": h.case_id} for h in r.hits]
            if len(r.hits) < 50:
                break
        return out

    res = score_labelled(search, json.loads(labels.read_text(encoding="utf-8")))
    for m in res["imperfect"]:
        print(f"  imperfect: {m['query']!r} precision@10={m['p_at_10']:.2f} recall={m['recall']:.2f}")
    print(f"labelled set: {res['queries']} queries, precision@10 {res['p_at_10']:.3f} "
          f"(goal 0.9), recall {res['recall']:.3f} (goal 0.95)")
    return {"labelled_queries": res["queries"], "labelled_p_at_10": round(res["p_at_10"], 4),
            "labelled_recall": round(res["recall"], 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--queries", type=int, default=40, help="queries per class")
    ap.add_argument("--limitmb", type=int, default=2048,
                    help="Whoosh writer memory per process before it spills sorted runs to disk")
    ap.add_argument("--workdir", type=Path, help="keep the indexes here (default: temporary)")
    ap.add_argument("--labels", type=Path, help="labelled query set (JSON) to score")
    ap.add_argument("--index", type=Path, help="existing index home for --labels")
    args = ap.parse_args(argv)
    print(f"rerun: {RERUN}")
    if args.labels and args.index:
        print(json.dumps(run_labels(args.labels, args.index), ensure_ascii=False))
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dangan-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        docs = generate(args.items)
        gen_s = time.perf_counter() - t
        print(f"generated {len(docs):,} items in {gen_s:.1f} s")
        queries = make_queries(docs, args.queries)
        engine, wb = build_whoosh(docs, work / "whoosh", args.procs, args.limitmb)
        print(f"whoosh: {wb['rate']:.0f} items/s ({wb['seconds']:.0f} s, {args.procs} procs, "
              f"limitmb {args.limitmb}), {wb['mb']:.0f} MB")
        db, fb = build_fts(docs, work / "fts.sqlite")
        print(f"fts5:   {fb['rate']:.0f} items/s ({fb['seconds']:.0f} s), {fb['mb']:.0f} MB")
        del docs
        wq = measure(lambda q: whoosh_ranked(engine, q), queries,
                     lambda q: engine.search(q["query"], filters=q.get("filters"), access=CLERK))
        fq = measure(lambda q: fts_ranked(db, q), queries, lambda q: fts_ranked(db, q))
        print(f"\n{'class':<14}{'whoosh med / p95 ms':>20}{'goal ms':>12}{'P@10':>6}{'rec':>6}"
              f"{'fts5 med / p95 ms':>20}{'P@10':>6}{'rec':>6}")
        result: dict[str, object] = {
            "items": args.items, "procs": args.procs, "limitmb": args.limitmb,
            "queries_per_class": args.queries,
            "whoosh_index_items_per_s": round(wb["rate"], 1), "whoosh_index_s": round(wb["seconds"], 1),
            "whoosh_index_size_mb": round(wb["mb"], 1),
            "fts5_index_items_per_s": round(fb["rate"], 1), "fts5_index_size_mb": round(fb["mb"], 1)}
        for cls, goal in GOALS_MS.items():
            w, f = wq[cls], fq[cls]
            ok = "ok" if w["p95_ms"] <= goal else "MISS"
            print(f"{cls:<14}{w['median_ms']:>10.1f} /{w['p95_ms']:>8.1f}{f'≤{goal} {ok}':>12}"
                  f"{w['p_at_10']:>6.2f}{w['recall']:>6.2f}{f['median_ms']:>10.1f} /{f['p95_ms']:>8.1f}"
                  f"{f['p_at_10']:>6.2f}{f['recall']:>6.2f}")
            for name, m in (("whoosh", w), ("fts5", f)):
                result[f"{name}_{cls}_median_ms"] = round(m["median_ms"], 2)
                result[f"{name}_{cls}_p95_ms"] = round(m["p95_ms"], 2)
                result[f"{name}_{cls}_p_at_10"] = round(m["p_at_10"], 3)
                result[f"{name}_{cls}_recall"] = round(m["recall"], 3)
            result[f"whoosh_{cls}_goal_p95_ms"] = goal
        missed = [c for c, g in GOALS_MS.items() if wq[c]["p95_ms"] > g]
        print(f"\ngoals (p95 at this size): {'all met' if not missed else 'missed: ' + ', '.join(missed)}")
        print(f"rerun: {RERUN}")
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Turning the clerk's query tree (query.py) and the access rule into Whoosh queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from whoosh import query as wq

from .analysis import bigrams, has_cjk, segment
from .interface import SECURITY_LEVELS, Access
from .query import (
    DATE_FIELDS,
    FIELDS,
    VALUE_ALIASES,
    And,
    DateRange,
    Node,
    Not,
    Or,
    Word,
    classify,
    parse_date_range,
)
from .whoosh_phrase import GramPhrase
from .whoosh_schema import FACET_FIELDS, TEXT_FIELDS, utc_naive

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # a clerk's dates are local calendar days
EXACT_FIELDS = {"case": "case_id", "code": "archival_code", "decision": "decision",
                "aip": "aip_id"}
CODED_FIELDS = ("outcome", "channel", "category", "retention", "classification", "security")


def _or(qs: list[wq.Query]) -> wq.Query:
    qs = [q for q in qs if q is not None and q is not wq.NullQuery]
    if not qs:
        return wq.NullQuery
    return qs[0] if len(qs) == 1 else wq.Or(qs)


def _and(qs: list[wq.Query]) -> wq.Query:
    if any(q is wq.NullQuery for q in qs):
        return wq.NullQuery
    return qs[0] if len(qs) == 1 else wq.And(qs)


# Whether (field, term) is in the index's vocabulary (set by the engine around a
# translation; None = unknown, e.g. in tests of the translation alone).
IN_INDEX: ContextVar[Callable[[str, str], bool] | None] = ContextVar("in_index", default=None)


def phrase(text: str, boost: float = 1.0) -> wq.Query:
    """Exact substring over title and texts, via the bigram field."""
    grams = bigrams(text)
    if not grams:
        return wq.NullQuery
    if len(grams) == 1:
        return wq.Term("grams", grams[0], boost=boost)
    return GramPhrase("grams", grams, boost=boost)


def words_in(fields: Mapping[str, float], text: str) -> wq.Query:
    """Every jieba word of ``text`` in at least one of ``fields`` (AND of ORs)."""
    tokens = list(dict.fromkeys(segment(text)))
    if not tokens:
        return wq.NullQuery
    return _and([_or([wq.Term(f, t, boost=b) for f, b in fields.items()]) for t in tokens])


def _pinyin(v: str, boost: float = 6.0) -> wq.Query:
    """A pinyin key; a longer key that is not a whole name is taken as a name's start
    (zhangsanf → zhangsanfeng), never when it is one (zhangsan does not find 张三丰)."""
    v = v.lower()
    qs = [wq.Term("pinyin", v, boost=boost)]
    in_index = IN_INDEX.get()
    if len(v) >= 5 and (in_index is None or not in_index("pinyin", v)):
        qs.append(wq.Prefix("pinyin", v, boost=boost / 3))
    return _or(qs)


def _bare(w: Word) -> wq.Query:
    v = w.text
    if w.phrase:  # party names are in the bigram field too
        return phrase(v)
    kind = classify(v)
    up = v.upper()
    if kind == "id":
        return _or([wq.Term("ids", up, boost=10.0), wq.Term("case_id", up), wq.Term(
            "archival_code", up), wq.Term("decision", up),
            wq.Term("content", v.lower())])  # printed on a scan (OCR) or in a file's text
    if kind == "suffix":
        return _or([wq.Term("idsuffix", up, boost=8.0), wq.Term("content", v.lower()),
                    wq.Term("case_id", up)])
    if kind == "pinyin":
        return _or([_pinyin(v), wq.Term("content", v.lower()), wq.Term("title", v.lower())])
    if kind == "code":
        return _or([wq.Term("case_id", up, boost=10.0), wq.Term("archival_code", up, boost=10.0),
                    wq.Term("decision", up, boost=10.0), wq.Term("ids", up, boost=10.0),
                    wq.Prefix("case_id", up), wq.Prefix("archival_code", up),
                    phrase(v)])
    # Chinese or mixed text: an exact name, or the words (jieba). When jieba cuts the
    # query into a word the index has never seen (it cut the documents differently),
    # the exact substring is searched instead, via the bigrams.
    in_index = IN_INDEX.get()
    tokens = segment(v)
    if in_index is not None and tokens and not all(
            any(in_index(f, t) for f in TEXT_FIELDS) for t in tokens):
        text_q = phrase(v)
    else:
        text_q = words_in(TEXT_FIELDS, v)
    qs = [text_q, wq.Term("decision", up, boost=10.0)]
    if has_cjk(v) and len(v) <= 20:
        qs.insert(0, wq.Term("name", v, boost=8.0))
    return _or(qs)


def _year(v: str) -> wq.Query:
    if ".." in v:
        a, b = (x.strip() or None for x in v.split("..", 1))
        return wq.TermRange("year", a, b)
    return wq.Term("year", v)


def _fielded(w: Word) -> wq.Query:
    f, v = w.field or "", w.text
    up = v.upper()
    if f == "name":
        if not has_cjk(v) and v.replace(" ", "").isalpha():
            return _pinyin(v.replace(" ", ""))
        return _or([wq.Term("name", v, boost=8.0), words_in({"name_text": 1.0}, v)])
    if f == "pinyin":
        return _pinyin(v.replace(" ", ""))
    if f == "id":
        return _or([wq.Term("ids", up), wq.Term("idsuffix", up)])
    if f == "idsuffix":
        return wq.Term("idsuffix", up)
    if f in EXACT_FIELDS:
        field = EXACT_FIELDS[f]
        value = v if f == "aip" else up
        return _or([wq.Term(field, value, boost=2.0), wq.Prefix(field, value)]) if f != "aip" \
            else wq.Term(field, value)
    if f == "item":
        return _or([wq.Term("item", v, boost=2.0), words_in({"item_name": 1.0}, v)])
    if f == "agency":
        qs = [wq.Term("agency", v, boost=2.0), words_in({"agency_name": 1.0}, v)]
        if v.isdigit():
            qs.append(wq.Prefix("agency", v))
        return _or(qs)
    if f == "year":
        return _year(v)
    if f in CODED_FIELDS:
        return wq.Term(f, v)
    if f == "title":
        return phrase(v) if w.phrase else words_in({"title": 1.0}, v)
    if f == "text":
        return phrase(v) if w.phrase else words_in({"content": 1.0, "title": 1.0}, v)
    return _bare(Word(v, None, w.phrase))


def _day_start(d: date) -> datetime:
    return utc_naive(datetime.combine(d, time.min, LOCAL_TZ))


def date_query(r: DateRange) -> wq.Query:
    field = "completed" if r.field == "date" else "accepted"
    start = _day_start(r.start) if r.start else None
    end = _day_start(r.end + timedelta(days=1)) - timedelta(microseconds=1) if r.end else None
    return wq.DateRange(field, start, end)


def to_whoosh(node: Node | None) -> wq.Query:
    """The Whoosh query of a parsed tree (None → every item)."""
    if node is None:
        return wq.Every()
    if isinstance(node, Word):
        return _fielded(node) if node.field else _bare(node)
    if isinstance(node, DateRange):
        return date_query(node)
    if isinstance(node, Not):
        return _and([wq.Every(), wq.Not(to_whoosh(node.child))])
    if isinstance(node, And):
        pos = [to_whoosh(c) for c in node.children if not isinstance(c, Not)]
        neg = [wq.Not(to_whoosh(c.child)) for c in node.children if isinstance(c, Not)]
        return _and((pos or [wq.Every()]) + neg)
    if isinstance(node, Or):
        return _or([to_whoosh(c) for c in node.children])
    raise TypeError(f"unknown query node {node!r}")


def filter_query(filters: Mapping[str, str | list[str]] | None) -> list[wq.Query]:
    """Facet filters (``{"year": "2024", "item": ["A", "B"]}``): OR within, AND across."""
    out: list[wq.Query] = []
    for key, values in (filters or {}).items():
        canon = FIELDS.get(str(key).lower())
        if canon is None:
            from .errors import QuerySyntaxError

            raise QuerySyntaxError(f"不能按“{key}”筛选", [{"field": key, "note": "未知的筛选字段"}])
        vals = [values] if isinstance(values, str) else list(values)
        qs: list[wq.Query] = []
        for v in vals:
            v = VALUE_ALIASES.get(canon, {}).get(str(v), str(v))
            if canon in DATE_FIELDS:
                qs.append(date_query(parse_date_range(canon, v)))
            elif canon in CODED_FIELDS or canon in ("item", "agency", "year"):
                qs.append(_year(v) if canon == "year" else wq.Term(canon, v))
            else:
                qs.append(_fielded(Word(v, canon)))
        out.append(_or(qs))
    return out


def access_query(access: Access) -> wq.Query | None:
    """The items ``access`` admits (None: no restriction). Empty rule → nothing.

    Classifications are expressed as the exclusion of the levels not allowed: skipping a
    few excluded items is much cheaper than intersecting with the allowed majority (the
    index maps any unknown level to "restricted", so nothing unknown slips through).
    """
    parts: list[wq.Query] = []
    if access.classifications is not None:
        allowed = set(access.classifications) & set(SECURITY_LEVELS)
        if not allowed:
            return wq.NullQuery
        denied = [wq.Term("security", c) for c in SECURITY_LEVELS if c not in allowed]
        if denied:
            parts.append(wq.Not(_or(denied)))
    if access.agencies is not None or access.agency_prefixes:
        parts.append(_or([wq.Term("agency", a) for a in sorted(access.agencies or ())]
                         + [wq.Prefix("agency", p) for p in access.agency_prefixes]))
    if not parts:
        return None
    return _and(parts)


UNSCORED_FIELDS = frozenset(FACET_FIELDS.values())  # ID fields: a term's score is its weight, 1


def split_facet_terms(q: wq.Query) -> tuple[wq.Query, list[wq.Query]]:
    """(the scored part of ``q``, the exact facet terms ANDed to it), as in ``参保 year:2021``.

    A term of an ID field adds the same score to every item it matches, so moved into the
    restriction it leaves the ranking as it was, and the items it admits then drive the
    matching and scoring (``whoosh_docset``) instead of a pass over every item with the
    words. A query made of such terms alone is left whole.
    """
    if not isinstance(q, wq.And):
        return q, []
    terms = [s for s in q.subqueries if isinstance(s, wq.Term) and s.boost == 1.0
             and s.fieldname in UNSCORED_FIELDS]
    rest = [s for s in q.subqueries if not any(s is t for t in terms)]
    if not terms or not rest:
        return q, []
    return (rest[0] if len(rest) == 1 else wq.And(rest)), terms

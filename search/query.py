"""The clerks' query language, parsed into an engine-neutral tree.

    张三 养老                     words, AND by default (each word segmented by jieba)
    "参保登记表"                  quoted phrase (also “…” and 「…」): exact sequence
    姓名:张三  id:3301…  事项:参保登记  year:2024  outcome:准予
    date:2024-01-01..2024-06-30   date:2024-03   date:..2023-12-31
    A OR B   A AND B   NOT A   -A   (A OR B) C     (also 或 / 且 / 非)

Every query is bounded (``QueryLimits``: length, terms, nesting) before it is parsed, and
anything malformed — a lone operator, undecodable text, a runaway query — is refused with a
``QuerySyntaxError`` naming what is wrong, never a crash or a minute of CPU. The web UI and
the CLI go through the same ``parse``.

A bare word is classified: an 18-character ID → exact ID look-up, 4–6 digits → ID
suffix, latin letters → pinyin of a name, a code with digits and dashes → case id /
archival code, anything else → names and full text. The engine turns the tree into its
own query objects; nothing here knows Whoosh.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from dangan.packages import vocabulary as V

from .errors import QueryEncoding, QuerySyntaxError, QueryTooDeep, QueryTooLong, QueryTooManyTerms


@dataclass(frozen=True)
class QueryLimits:
    """How big a clerk's query may be. The longest labelled query is 25 characters with
    3 terms; a clerk's complex query ("(张三 OR 李四) 养老 date:2024 -撤回") stays far
    below these. They keep a pasted document or a script's OR-chain from costing a
    minute and hundreds of MB, and the recursive parser far from Python's stack limit."""

    max_chars: int = 1000  # characters of the whole query
    max_terms: int = 64  # words, phrases and field:value terms
    max_depth: int = 8  # nested parentheses


LIMITS = QueryLimits()
MIN_YEAR, MAX_YEAR = 1900, 2999  # dates a clerk can mean (and Whoosh can convert)

# canonical field → aliases a clerk may type (lower-case for latin)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名称", "名字", "单位", "当事人", "申请人"),
    "pinyin": ("拼音", "py"),
    "id": ("身份证", "身份证号", "证件", "证件号", "证件号码", "信用代码", "ids"),
    "idsuffix": ("尾号", "后几位", "suffix"),
    "case": ("办件", "办件号", "办件编号", "case_id", "caseid"),
    "code": ("档号", "archival", "archival_code"),
    "decision": ("文号", "decision_no"),
    "aip": ("aip_id",),
    "item": ("事项", "服务事项", "业务"),
    "agency": ("机构", "经办机构"),
    "year": ("年度", "年份"),
    "outcome": ("结果", "办理结果"),
    "channel": ("渠道", "办理渠道"),
    "category": ("类别", "门类"),
    "retention": ("期限", "保管期限"),
    "classification": ("分类", "分类号"),
    "security": ("密级",),
    "date": ("日期", "办结日期", "办结", "completed"),
    "accepted": ("受理日期", "受理"),
    "title": ("题名", "标题"),
    "text": ("全文", "内容"),
}
FIELDS = {alias: canon for canon, aliases in FIELD_ALIASES.items() for alias in (canon, *aliases)}
DATE_FIELDS = ("date", "accepted")

def _words(labels: dict[str, str], **synonyms: str) -> dict[str, str]:
    """Label → code from the vocabulary, plus the other words clerks type."""
    return {name: code for code, name in labels.items()} | synonyms


# Chinese words for coded values, so "结果:准予" and "渠道:窗口" work.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "outcome": _words(V.OUTCOMES, 批准="approved", 不予办理="rejected", 不予认定="rejected"),
    "channel": _words(V.CHANNELS, 网办="online", 智慧化="online", 自助="self_service",
                      手机="mobile"),
    "security": _words(V.CLASSIFICATIONS),
    "retention": _words(V.RETENTIONS),
    "category": _words(V.CATEGORIES),
}

ID_RE = re.compile(r"^(?=(?:.*\d){8})[0-9A-Za-z]{18}$")
SUFFIX_RE = re.compile(r"^(?:\d{4,6}|\d{3,5}[Xx])$")
PINYIN_RE = re.compile(r"^[A-Za-z]+$")
CODE_RE = re.compile(r"^(?=.*\d)[0-9A-Za-z][0-9A-Za-z.\-_·/]{3,}$")
_OPS = {"AND": "AND", "&&": "AND", "且": "AND", "并且": "AND", "OR": "OR", "||": "OR", "或": "OR",
        "或者": "OR", "NOT": "NOT", "非": "NOT"}
_QUOTES = {'"': '"', "“": "”", "「": "」"}


@dataclass
class Word:
    """A bare word (``field`` None: classified by ``kind``) or a field:value term."""

    text: str
    field: str | None = None
    phrase: bool = False

    @property
    def kind(self) -> str:
        return classify(self.text) if self.field is None and not self.phrase else "field"


@dataclass
class DateRange:
    field: str  # "date" (completed) or "accepted"
    start: date | None
    end: date | None  # inclusive


@dataclass
class And:
    children: list[Node] = field(default_factory=list)


@dataclass
class Or:
    children: list[Node] = field(default_factory=list)


@dataclass
class Not:
    child: Node


Node = Word | DateRange | And | Or | Not


def classify(word: str) -> str:
    """What a bare word most likely is: id, suffix, pinyin, code or text."""
    if ID_RE.match(word):
        return "id"
    if SUFFIX_RE.match(word):
        return "suffix"
    if PINYIN_RE.match(word):
        return "pinyin"
    if CODE_RE.match(word):
        return "code"
    return "text"


def _parse_day(text: str, end: bool) -> date:
    """2024 | 2024-03 | 2024-03-05 (also / and . separators); an end rounds up."""
    t = text.strip().replace("/", "-").replace(".", "-")
    try:
        parts = [int(x) for x in t.split("-")]
        if parts and not MIN_YEAR <= parts[0] <= MAX_YEAR:
            raise QuerySyntaxError(
                f"日期“{text}”的年份超出范围：应在 {MIN_YEAR}–{MAX_YEAR} 年之间",
                [{"field": "date", "found": text, "expected": f"{MIN_YEAR}..{MAX_YEAR}"}])
        if len(parts) == 1 and len(t) == 4:
            return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
        if len(parts) == 2:
            first = date(parts[0], parts[1], 1)
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if len(parts) == 3:
            return date(parts[0], parts[1], parts[2])
    except (ValueError, OverflowError):
        pass
    raise QuerySyntaxError(f"日期“{text}”无法识别，请写成 2024-01-31、2024-01 或 2024",
                           [{"field": "date", "found": text,
                             "expected": "YYYY-MM-DD / YYYY-MM / YYYY"}])


def parse_date_range(fieldname: str, value: str) -> DateRange:
    if ".." in value:
        a, b = value.split("..", 1)
    elif "~" in value or "至" in value:
        a, b = re.split(r"~|至", value, maxsplit=1)
    else:
        a = b = value
    return DateRange(fieldname, _parse_day(a, False) if a.strip() else None,
                     _parse_day(b, True) if b.strip() else None)


def check_text(text: str, what: str = "查询", limits: QueryLimits = LIMITS) -> None:
    """Refuse text no index can take: too long, undecodable, or with control characters.

    A byte argv that is not UTF-8 reaches Python as lone surrogates ("\\udcff"); Whoosh
    then fails to encode it. NUL would also split the tokenizer's field records.
    """
    if len(text) > limits.max_chars:
        raise QueryTooLong(
            f"{what}过长：共 {len(text)} 个字符，最多 {limits.max_chars} 个；请缩短后再检索",
            [{"found": len(text), "expected": f"<= {limits.max_chars}"}])
    for pos, ch in enumerate(text, start=1):
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise QueryEncoding(
                f"{what}第 {pos} 个字符不是有效的 UTF-8 文本（可能是终端或文件编码不对）；"
                "请用 UTF-8 重新输入",
                [{"position": pos, "found": f"U+{ord(ch):04X}", "expected": "UTF-8"}])
        if cat == "Cc" and ch not in "\t\n\r":
            raise QueryEncoding(
                f"{what}第 {pos} 个字符是控制字符 U+{ord(ch):04X}，不能用于检索；请删去后再检索",
                [{"position": pos, "found": f"U+{ord(ch):04X}", "expected": "可见字符"}])


def _check_shape(tokens: list[tuple[str, str]], limits: QueryLimits) -> None:
    """Count terms and nesting before parsing, so the parser never sees a runaway tree."""
    terms = sum(1 for kind, _ in tokens if kind in ("WORD", "PHRASE", "FIELD"))
    if terms > limits.max_terms:
        raise QueryTooManyTerms(
            f"查询的检索词过多：共 {terms} 个，最多 {limits.max_terms} 个；请减少词语或分几次检索",
            [{"found": terms, "expected": f"<= {limits.max_terms}"}])
    if tokens and terms == 0 and any(kind == "OP" for kind, _ in tokens):
        ops = " ".join(text for kind, text in tokens if kind == "OP")
        raise QuerySyntaxError(
            f"查询只有运算符（{ops}），缺少检索词；请在 AND/OR/NOT 前后写上要找的词",
            [{"found": ops, "expected": "检索词"}])
    depth = deepest = 0
    for kind, _ in tokens:
        if kind == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == ")" and depth:
            depth -= 1
    if deepest > limits.max_depth:
        raise QueryTooDeep(
            f"查询的括号嵌套过深：{deepest} 层，最多 {limits.max_depth} 层；请去掉多余的括号",
            [{"found": deepest, "expected": f"<= {limits.max_depth}"}])


def _tokens(query: str) -> list[tuple[str, str]]:
    """(type, text) with type in WORD, PHRASE, FIELD (text "field\\0value\\0q"), OP, '(' , ')'."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace() or c in "，,；;　":
            i += 1
            continue
        if c in "()（）":
            out.append(("(" if c in "(（" else ")", c))
            i += 1
            continue
        if c in _QUOTES:
            j = query.find(_QUOTES[c], i + 1)
            j = n if j < 0 else j
            out.append(("PHRASE", query[i + 1:j]))
            i = j + 1
            continue
        if c == "-" and i + 1 < n and not query[i + 1].isspace() and (i == 0 or query[i - 1].isspace()):
            out.append(("OP", "NOT"))
            i += 1
            continue
        j = i
        while j < n and not query[j].isspace() and query[j] not in '()（）"“「，,；;　':
            if query[j] in ":：" and j > i and query[i:j].lower() in FIELDS and j + 1 < n:
                fname = FIELDS[query[i:j].lower()]
                k = j + 1
                if query[k] in _QUOTES:
                    e = query.find(_QUOTES[query[k]], k + 1)
                    e = n if e < 0 else e
                    out.append(("FIELD", f"{fname}\0{query[k + 1:e]}\0q"))
                    i = e + 1
                else:
                    e = k
                    while e < n and not query[e].isspace() and query[e] not in "()（），,；;":
                        e += 1
                    out.append(("FIELD", f"{fname}\0{query[k:e]}\0"))
                    i = e
                break
            j += 1
        else:
            word = query[i:j]
            out.append(("OP", _OPS[word.upper()]) if word.upper() in _OPS else ("WORD", word))
            i = j
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node | None:
        node = self.or_expr()
        while self.peek() is not None:  # a stray ")" — skip it, keep the rest
            self.i += 1
            more = self.or_expr()
            if more is not None:
                node = And([node, more]) if node is not None else more
        return node

    def or_expr(self) -> Node | None:
        parts = [p for p in [self.and_expr()] if p is not None]
        while self.peek() == ("OP", "OR"):
            self.i += 1
            p = self.and_expr()
            if p is not None:
                parts.append(p)
        return None if not parts else parts[0] if len(parts) == 1 else Or(parts)

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        while (t := self.peek()) is not None and t[0] != ")" and t != ("OP", "OR"):
            if t == ("OP", "AND"):
                self.i += 1
                continue
            p = self.not_expr()
            if p is not None:
                parts.append(p)
        return None if not parts else parts[0] if len(parts) == 1 else And(parts)

    def not_expr(self) -> Node | None:
        negations = 0
        while self.peek() == ("OP", "NOT"):  # a loop, not recursion: NOT NOT … is bounded
            self.i += 1
            negations += 1
        if negations and ((t := self.peek()) is None or t[0] == ")" or t[0] == "OP"):
            raise QuerySyntaxError("NOT（或 -、非）后面缺少检索词：请写明要排除的词，例如 张三 NOT 李四",
                                   [{"found": "NOT", "expected": "NOT 检索词"}])
        child = self.atom()
        if child is None or negations % 2 == 0:
            return child
        return Not(child)

    def atom(self) -> Node | None:
        if self.peek() is None:
            return None
        kind, text = self.toks[self.i]
        self.i += 1
        if kind == "(":
            node = self.or_expr()
            if self.peek() is not None and self.peek()[0] == ")":
                self.i += 1
            return node
        if kind == "PHRASE":
            return Word(text.strip(), phrase=True) if text.strip() else None
        if kind == "FIELD":
            fname, value, quoted = text.split("\0")
            if fname in DATE_FIELDS:
                return parse_date_range(fname, value)
            value = VALUE_ALIASES.get(fname, {}).get(value, value)
            return Word(value.strip(), fname, phrase=bool(quoted)) if value.strip() else None
        if kind == "OP":  # an operator where a term belongs (e.g. "A OR"): ignore it
            return None
        return Word(text)


def parse(query: str, limits: QueryLimits = LIMITS) -> Node | None:
    """The tree of a clerk's query, or None for an empty query (match everything).

    Raises ``QuerySyntaxError`` (or a subclass with its own code) for a malformed query.
    """
    check_text(query, limits=limits)
    tokens = _tokens(query.strip())
    _check_shape(tokens, limits)
    return _Parser(tokens).parse()


def words(node: Node | None, *, negated: bool = False) -> list[Word]:
    """The positive words of a tree (for highlighting and suggestions)."""
    if node is None:
        return []
    if isinstance(node, Word):
        return [] if negated else [node]
    if isinstance(node, Not):
        return words(node.child, negated=not negated)
    if isinstance(node, And | Or):
        return [w for c in node.children for w in words(c, negated=negated)]
    return []

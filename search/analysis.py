"""Chinese text analysis: jieba word segmentation as a Whoosh analyzer, pinyin of names.

jieba is initialised once per process, quietly, with its dictionary cache in a folder
the engine chooses (under the index directory) rather than in /tmp. The analyzers are
pickled into the Whoosh schema, so they hold no paths or state of their own.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterator
from pathlib import Path

from pypinyin import Style, lazy_pinyin
from whoosh.analysis import Token, Tokenizer

with warnings.catch_warnings():
    # jieba imports pkg_resources, which warns about the editable install; not ours to show.
    warnings.simplefilter("ignore")
    import jieba

_lock = threading.Lock()
_ready = False
_cache_dir: Path | None = None

# Words of the domain that jieba's general dictionary splits badly.
DOMAIN_WORDS = (
    "社会保险", "养老保险", "工伤保险", "失业保险", "医疗保险", "基本养老保险",
    "失业保险金", "工伤认定", "劳动能力鉴定", "参保登记", "参保", "社保卡",
    "经办机构", "统一社会信用代码", "居民身份证", "受理告知书", "业务指引告知书",
    "不予受理", "不予受理决定书", "联系函", "转移接续", "待遇核定", "养老金",
    "丧葬补助金", "抚恤金", "缴费基数", "视同缴费", "个人账户", "退休审批",
    "工亡", "伤残津贴", "一次性工伤医疗补助金", "档号", "办结",
)

# Tokens that carry no meaning for a search (single function words, punctuation).
STOP_WORDS = frozenset("的 了 和 与 及 或 在 是 为 对 于 其 之 等 并 将 由 被 把 也 就 都 而 以 个".split())

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_WORD_RE = re.compile(rf"[{_CJK}]|[0-9A-Za-z]")
_CJK_RE = re.compile(rf"[{_CJK}]")


def configure_jieba(cache_dir: Path | str | None) -> None:
    """Choose where jieba keeps its dictionary cache; call before the first analysis."""
    global _cache_dir
    if cache_dir is not None:
        _cache_dir = Path(cache_dir)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dangan" / "jieba"


def ensure_jieba() -> None:
    """Initialise jieba once (thread-safe), without its chatter on stderr."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)
        cache = _cache_dir or _default_cache_dir()
        try:
            cache.mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = str(cache)
        except OSError:
            pass  # an unwritable cache only costs start-up time
        jieba.dt.initialize()
        for word in DOMAIN_WORDS:
            jieba.add_word(word, freq=200000)
        _ready = True


def tidy(text: str) -> str:
    """No spaces between Chinese characters (OCR output puts one between each)."""
    return _CJK_SPACE_RE.sub("", text)


def normalize(text: str) -> str:
    """For analysis only: NFKC (full-width → half-width letters and digits) and ``tidy``."""
    return tidy(unicodedata.normalize("NFKC", text))


def _keep(word: str) -> bool:
    return bool(_WORD_RE.search(word)) and word not in STOP_WORDS


def segment(text: str, *, search_mode: bool = False) -> list[str]:
    """Words of ``text`` as the index sees them (lower-case, no punctuation or stop words)."""
    ensure_jieba()
    text = normalize(text)
    cut = jieba.cut_for_search(text) if search_mode else jieba.cut(text)
    return [w.strip().lower() for w in cut if _keep(w.strip())]


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer over jieba. ``search_mode`` adds the sub-words of long words
    (养老保险 → 养老, 保险, 养老保险) at index time so a short query word finds them."""

    def __init__(self, search_mode: bool = True) -> None:
        self.search_mode = search_mode

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.search_mode == self.search_mode

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs: object) -> Iterator[Token]:
        ensure_jieba()
        text = normalize(value)
        # Whoosh queries analyse with mode="query": the precise cut, not the overlaps.
        jmode = "search" if (self.search_mode and mode != "query") else "default"
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for word, start, end in jieba.tokenize(text, mode=jmode):
            word = word.strip()
            if not _keep(word):
                continue
            t.text = word.lower()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


class BigramTokenizer(Tokenizer):
    """Overlapping pairs of characters (letters/digits runs kept whole), with positions:
    a quoted phrase becomes a phrase of bigrams, i.e. an exact substring match that does
    not depend on how jieba happened to cut the surrounding sentence."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BigramTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for gram in bigrams(value):
            t.text = gram
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            yield t


_UNIT_RE = re.compile(rf"[{_CJK}]|[0-9]|[a-z]+")


def bigrams(text: str) -> list[str]:
    """Units (one Chinese character, one digit, or one run of latin letters) paired up;
    digits are single units so that a phrase may start inside a number (…8年01月)."""
    units = _UNIT_RE.findall(normalize(text).lower())
    if len(units) == 1:
        return units
    return [units[i] + units[i + 1] for i in range(len(units) - 1)]


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


# Surnames whose reading as a surname differs from pypinyin's default reading.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "朴": "piao", "查": "zha", "仇": "qiu",
    "区": "ou", "繁": "po", "盖": "ge", "过": "guo", "华": "hua", "乐": "yue",
    "缪": "miao", "那": "na", "任": "ren", "沈": "shen", "尉": "yu", "员": "yun",
    "翟": "zhai", "祭": "zhai", "种": "chong", "覃": "qin", "召": "shao", "长": "chang",
    "宿": "su", "秘": "bi", "黑": "he", "句": "gou", "卜": "bu", "折": "she",
}


def name_pinyin(name: str, *, person: bool = True) -> list[str]:
    """Pinyin keys of a name: full (张三 → zhangsan) and initials (zs); empty for latin names.

    For a person the surname reading (单 shan, 曾 zeng) is indexed as well as the default
    one, so either spelling a clerk types finds the person.
    """
    chars = "".join(_CJK_RE.findall(name))
    if not chars:
        return []
    syllables = [s.lower() for s in lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")]
    syllables = [s for s in syllables if s.isascii() and s.isalpha()]
    if len(syllables) != len(chars):
        return []
    readings = [syllables]
    if person and chars[0] in SURNAME_READINGS and SURNAME_READINGS[chars[0]] != syllables[0]:
        readings.insert(0, [SURNAME_READINGS[chars[0]], *syllables[1:]])
    keys: list[str] = []
    for syl in readings:
        for key in ("".join(syl), "".join(s[0] for s in syl)):
            if key not in keys:
                keys.append(key)
    return keys

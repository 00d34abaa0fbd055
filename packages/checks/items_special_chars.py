"""GD-1-6: characters that must not appear in a metadata value.

Control and bidirectional/zero-width characters, lone surrogates, U+FFFD and private-use
code points make a value look like something it is not, or mark a broken conversion;
tabs and line breaks are allowed only in the elements meant to hold several lines.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..case_schema import METADATA_BY_PATH, element_path
from ..problem import Problem
from .context import CheckContext
from .engine import Nature, Verdict, check
from .items_metadata import META_STAGES, MULTILINE, unreadable

_BIDI_ZW = {
    **{cp: "零宽或方向控制字符" for cp in range(0x200B, 0x2010)},
    **{cp: "双向文本控制字符" for cp in range(0x202A, 0x202F)},
    **{cp: "双向文本隔离字符" for cp in range(0x2066, 0x206A)},
    0xFEFF: "零宽不换行空格（BOM）",
    0x2060: "零宽连接控制字符",
}


def special_char_reason(ch: str, multiline: bool) -> str | None:
    """Why ``ch`` must not appear in a metadata value, or None when it may."""
    cp = ord(ch)
    if ch in "\t\r\n":
        return None if multiline else "换行或制表符（单行元素）"
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return "控制字符"
    if 0xD800 <= cp <= 0xDFFF:
        return "未配对的代理码位"
    if cp == 0xFFFD:
        return "替换字符 U+FFFD（编码转换损坏的痕迹）"
    if cp in (0xFFFE, 0xFFFF):
        return "XML 1.0 不允许的字符"
    if cp in _BIDI_ZW:
        return _BIDI_ZW[cp]
    if unicodedata.category(ch) == "Co":
        return "私用区字符"
    return None


def _strings(node: Any, jp: str):
    if isinstance(node, str):
        yield jp, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{jp}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _strings(value, f"{jp}[{n}]")


@check("GD-1-6", Nature.AUTHENTICITY, "元数据项数据包含特殊字符检测", stages=META_STAGES)
def metadata_special_chars(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    problems = []
    for jp, text in _strings(ctx.case, "$"):
        el_path = element_path(jp)
        el = METADATA_BY_PATH.get(el_path)
        multiline = el_path in MULTILINE
        for pos, ch in enumerate(text):
            reason = special_char_reason(ch, multiline)
            if reason:
                name = el.name if el else jp
                code = f"U+{ord(ch):04X}"
                problems.append(Problem("case.special_char", jp, field=name, expected="不含特殊字符",
                                        found=f"{code} 于第 {pos + 1} 个字符",
                                        note=f"{name}（{jp}）第 {pos + 1} 个字符为 {code}（{reason}）"))
    return Verdict.from_problems(problems, "元数据项不含特殊字符", "元数据项含特殊字符")

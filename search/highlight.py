"""Highlighted snippets for Chinese text, independent of the engine.

Engines' own highlighters work on tokens and cut Chinese sentences badly; a clerk wants
the few characters around what they typed. Matches are found as literal substrings
(the typed word, its jieba words, a quoted phrase), the densest window is cut out, the
text is HTML-escaped and the matches are wrapped in ``<em>``.
"""

from __future__ import annotations

import html
import re

from .analysis import tidy

WINDOW = 72  # characters of context in one fragment
LEAD = 18  # characters shown before the first match


def _spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    low = text.lower()
    spans: list[tuple[int, int]] = []
    for n in needles:
        if not n:
            continue
        for m in re.finditer(re.escape(n.lower()), low):
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<em>{html.escape(text[s:e])}</em>")
        pos = e
    out.append(html.escape(text[pos:end]))
    frag = "".join(out).replace("\n", " ")
    return ("…" if start > 0 else "") + frag + ("…" if end < len(text) else "")


def fragments(text: str, needles: list[str], *, limit: int = 2, window: int = WINDOW) -> list[str]:
    """Up to ``limit`` fragments of ``text`` around the needles, best (most matches) first."""
    text = tidy(text)
    spans = _spans(text, needles)
    if not spans:
        return []
    windows: list[tuple[int, int, int]] = []  # (-matched chars, start, end)
    for s, _e in spans:
        start = max(0, s - LEAD)
        end = min(len(text), start + window)
        covered = sum(min(e2, end) - max(s2, start) for s2, e2 in spans if s2 < end and e2 > start)
        windows.append((-covered, start, end))
    windows.sort()
    chosen: list[tuple[int, int]] = []
    for _c, start, end in windows:
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
        if len(chosen) >= limit:
            break
    return [_mark(text, spans, a, b) for a, b in chosen]


def mark_all(text: str, needles: list[str]) -> str | None:
    """The whole (short) text with every match marked, or None when nothing matches."""
    spans = _spans(text, needles)
    return _mark(text, spans, 0, len(text)) if spans else None


def mask_id(id_number: str) -> str:
    """A resident ID as shown on screens: 110101********1234 (birth date hidden)."""
    if len(id_number) == 18 and id_number[:17].isdigit():
        return id_number[:6] + "*" * 8 + id_number[14:]
    return id_number

"""Scanned demo pages with the text drawn on them, to score OCR engines against.

Why: the demo generator draws every scan itself, so it knows the ground truth of each
page (names, ID numbers, the fields of an ID card, each line of a certificate). The same
plans, layouts and renderer as ``dangan demo`` are used (200 dpi, JPEG quality 75, a
slight skew, colour ID-card copies), so a score here is a score on the demo's scans.
Pages depend only on (seed, index): a fixed seed gives the same set on every machine
that has the same CJK font.
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image

from dangan.archive.filing_config import FilingConfig, load_filing_config

from .cases import layout_for
from .generator import pick_item
from .layout import Doc, Text
from .people import Person
from .plan import plan_case
from .scans import render_page, to_jpeg

ID_NUMBER_RE = re.compile(r"\d{17}[\dX]")
_SPACE_RE = re.compile(r"\s+")
DPI = 200


def squash(text: str) -> str:
    """Text without any whitespace: how drawn lines and OCR output are compared."""
    return _SPACE_RE.sub("", text)


@dataclass(frozen=True)
class LabelledPage:
    """One scanned page and what is drawn on it (all strings without whitespace)."""

    key: str  # "<index>-<material kind>", stable for a seed
    kind: str  # "id_card" or "certificate"
    jpeg: bytes  # the page as the demo files it (200 dpi JPEG)
    lines: tuple[str, ...]  # every text line drawn, top to bottom
    names: tuple[str, ...]  # people's names drawn on the page
    id_numbers: tuple[str, ...]  # 公民身份号码 drawn on the page
    fields: tuple[str, ...]  # ID card: the field values; certificate: its lines

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.jpeg))


def _people(plan) -> list[Person]:
    f = plan.facts
    found: list[Person] = []
    for who in (f.person, f.applicant, f.subject, getattr(f.unit, "legal_rep", None),
                getattr(f.unit, "contact", None)):
        if isinstance(who, Person) and who not in found:
            found.append(who)
    return found


def _id_card_fields(lines: list[str]) -> tuple[str, ...]:
    """Values of the labelled fields on a card (姓名 …, 住址 …) and the back's lines."""
    labels = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码", "签发机关", "有效期限")
    out: list[str] = []
    for line in lines:
        rest = line
        if rest.startswith("性别") and "民族" in rest:  # 性别 男 民族 汉: two fields on one line
            sex, nation = rest[2:].split("民族", 1)
            out += [sex, nation]
            continue
        for label in labels:
            if rest.startswith(label):
                rest = rest[len(label):]
                break
        else:
            if line in ("中华人民共和国", "居民身份证") or line.startswith("本复印件"):
                continue
        if rest:
            out.append(rest)
    return tuple(out)


def _page(index: int, plan, pf, doc: Doc, rng: random.Random) -> LabelledPage:
    page = doc.pages[0]
    texts = sorted((t for t in page.items if isinstance(t, Text)), key=lambda t: (t.y, t.x))
    lines = [squash(t.text) for t in texts if squash(t.text)]
    kind = "id_card" if pf.material.kind == "id_document" else "certificate"
    colour = kind == "id_card" or rng.random() < 0.3  # as render_case decides
    img = render_page(page, dpi=DPI, mode="RGB" if colour else "L", skew=rng.uniform(-0.6, 0.6))
    joined = "".join(lines)
    names = tuple(p.name for p in _people(plan) if p.name in joined)
    ids = tuple(dict.fromkeys(m for line in lines for m in ID_NUMBER_RE.findall(line)))
    fields = _id_card_fields(lines) if kind == "id_card" else tuple(lines)
    return LabelledPage(f"{index:02d}-{pf.material.kind}", kind, to_jpeg(img, DPI), tuple(lines),
                        names, ids, fields)


@lru_cache(maxsize=1)
def _config() -> FilingConfig:
    return load_filing_config()


def labelled_pages(n: int = 30, *, seed: int = 13) -> Iterator[LabelledPage]:
    """``n`` scanned pages, alternating ID-card copies and other paper evidence.

    Each page comes from its own demo case plan (seeded by ``seed`` and a counter); only
    the first page of a scanned material is used, since that is where the names are.
    """
    made = 0
    k = 0
    while made < n:
        want_id = made % 2 == 0
        rng = random.Random(f"ocr-truth:{seed}:{k}")
        k += 1
        plan = plan_case(pick_item(_config(), rng), rng)
        for pf in plan.files:
            m = pf.material
            if m.origin != "digitized" or (m.kind == "id_document") != want_id:
                continue
            doc = layout_for(plan, pf)
            if not isinstance(doc, Doc):
                continue
            yield _page(made, plan, pf, doc, rng)
            made += 1
            break


def normalise(s: str) -> str:
    """How drawn and read text are compared: NFKC, no whitespace."""
    return squash(unicodedata.normalize("NFKC", s))


def best_match_distance(needle: str, hay: str) -> int:
    """Edit distance of ``needle`` to its closest substring of ``hay`` (Sellers)."""
    if not needle:
        return 0
    prev = [0] * (len(hay) + 1)
    for i, a in enumerate(needle, 1):
        cur = [i] + [0] * len(hay)
        for j, b in enumerate(hay, 1):
            cur[j] = min(prev[j - 1] + (a != b), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return min(prev)


def score_pages(pages: list[LabelledPage], texts: dict[str, str]) -> dict[str, Any]:
    """Found/drawn counts per kind, the CER, and the names and ID numbers missed.

    CER: each drawn line against its best-matching stretch of the OCR text (so the
    engine's reading order does not count), summed over lines / drawn characters.
    """
    counts = {k: [0, 0] for k in ("names", "id_numbers", "id_card_fields", "certificate_lines")}
    errors = chars = 0
    missed: list[str] = []
    for p in pages:
        text = normalise(texts[p.key])
        field_kind = "id_card_fields" if p.kind == "id_card" else "certificate_lines"
        for kind, wanted in (("names", p.names), ("id_numbers", p.id_numbers),
                             (field_kind, p.fields)):
            for w in wanted:
                hit = normalise(w) in text
                counts[kind][0] += hit
                counts[kind][1] += 1
                if not hit and kind in ("names", "id_numbers"):
                    missed.append(f"{p.key}:{w}")
        for line in p.lines:
            n = normalise(line)
            errors += best_match_distance(n, text)
            chars += len(n)
    out: dict[str, Any] = {k: f"{a}/{b}" for k, (a, b) in counts.items()}
    out["cer"] = round(errors / max(chars, 1), 4)
    out["missed_names_ids"] = missed
    return out

"""The labelled OCR page set: deterministic, and its ground truth is what was drawn."""

from __future__ import annotations

from dangan.ingest.demo.ocr_truth import (
    best_match_distance,
    labelled_pages,
    normalise,
    score_pages,
)


def test_the_same_seed_gives_the_same_pages_with_names_and_id_numbers():
    first, again = list(labelled_pages(4, seed=5)), list(labelled_pages(4, seed=5))
    assert [p.jpeg for p in first] == [p.jpeg for p in again]
    assert [p.kind for p in first] == ["id_card", "certificate", "id_card", "certificate"]
    for page in first:
        assert all(n in "".join(page.lines) for n in page.names)
        assert page.names or page.kind == "certificate"  # a unit's certificate may name no one
        assert page.jpeg[:2] == b"\xff\xd8" and page.image().size == (1654, 2339)
    card = first[0]
    assert card.id_numbers and card.id_numbers[0] in card.fields and card.names[0] in card.fields


def test_scoring_counts_what_was_read_and_forgives_reading_order():
    page = next(labelled_pages(1, seed=5))
    perfect = "\n".join(reversed(page.lines))  # every line, bottom to top
    scored = score_pages([page], {page.key: perfect})
    assert scored["cer"] == 0.0 and scored["missed_names_ids"] == []
    assert scored["names"] == f"{len(page.names)}/{len(page.names)}"
    blind = score_pages([page], {page.key: perfect.replace(page.names[0], "")})
    assert blind["cer"] > 0 and blind["missed_names_ids"]
    assert best_match_distance(normalise("张 三"), "李四张三王五") == 0
    assert best_match_distance("张三丰", "李四张三王五") == 1

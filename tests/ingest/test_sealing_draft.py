"""The AIP sealed ahead of the filing window: filed as is, or resealed when its place went."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dangan.archive import catalogue, chain
from dangan.archive.instance import Archive
from dangan.ingest import sealing
from dangan.ingest.service import ingest
from dangan.packages.aip import validate_aip


def chain_code(archive: Archive, aip_id: str) -> str:
    with archive.db.session() as session:
        return catalogue.get_item(session, aip_id).archival_code


def _fully_verified(archive: Archive, aip_id: str) -> None:
    [result] = chain.verify_ref(archive, aip_id)
    bad = [s.step for s in result.steps if not s.ok and s.step != "replica"]
    assert not bad, bad
    validation = validate_aip(archive.store.path(aip_id), archive.key.public_pem)
    assert not validation.problems, validation.problems
    assert validation.archival_code == chain_code(archive, aip_id)


def test_a_draft_whose_number_was_taken_meanwhile_is_resealed_with_the_next(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    first, second = make_case(year=2025), make_case(year=2025)
    real_draft = sealing.seal_draft
    drafted: list[str] = []

    def draft_then_another_filing(*args, **kwargs):
        made = real_draft(*args, **kwargs)
        drafted.append(made.placement.archival_code)
        monkeypatch.setattr(sealing, "seal_draft", real_draft)
        assert ingest(archive, second, index=False).status == "archived"
        return made

    monkeypatch.setattr(sealing, "seal_draft", draft_then_another_filing)
    outcome = ingest(archive, first, index=False)

    assert outcome.status == "archived"
    assert drafted[0].endswith("-00001")  # drafted under the number the other case took
    assert outcome.archival_code.endswith("-00002")
    stored = (archive.store.path(outcome.aip_id) / "data" / "description.xml").read_text("utf-8")
    assert outcome.archival_code in stored and drafted[0] not in stored
    _fully_verified(archive, outcome.aip_id)
    assert not list(archive.store.staging_root.iterdir())  # nothing left behind


def test_catalogue_rows_read_back_differently_are_checked_again(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    real_record_of = catalogue.record_of
    monkeypatch.setattr(catalogue, "record_of",
                        lambda item: {**real_record_of(item), "note": "drafted"})
    reseals: list[Path] = []
    real_reseal = sealing.reseal_with_report
    monkeypatch.setattr(sealing, "reseal_with_report",
                        lambda path, *a, **k: reseals.append(path) or real_reseal(path, *a, **k))
    outcome = ingest(archive, make_case(), index=False)
    assert outcome.status == "archived"
    gd32 = [c for c in outcome.checks if c["code"] == "GD-3-2"]
    assert len(gd32) == 1 and gd32[0]["result"] == "pass"
    assert len(reseals) == 2  # the draft's seal, then again after GD-3-2 ran on the rows read
    _fully_verified(archive, outcome.aip_id)


def test_a_draft_that_fails_its_checks_decides_nothing(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    real_record_of = catalogue.record_of
    monkeypatch.setattr(catalogue, "record_of",
                        lambda item: {**real_record_of(item), "file_count": 99})
    outcome = ingest(archive, make_case(), index=False)
    assert outcome.status == "archived"  # the window's own sealing gave the verdict
    _fully_verified(archive, outcome.aip_id)


def test_confirm_leaves_the_draft_and_the_check_context_as_they_were(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    real_record_of = catalogue.record_of
    monkeypatch.setattr(catalogue, "record_of",
                        lambda item: {**real_record_of(item), "note": "drafted"})
    seen: list[tuple] = []
    real_confirm = sealing.confirm

    def watch(filing, session, placement):
        draft = filing.draft
        before = (draft.built, draft.report.to_list(), draft.record)
        filed = real_confirm(filing, session, placement)
        seen.append((filing, draft, before, filed))
        return filed

    monkeypatch.setattr(sealing, "confirm", watch)
    outcome = ingest(archive, make_case(), index=False)
    assert outcome.status == "archived"
    [(filing, draft, before, filed)] = seen
    assert filed is not None and filed is not draft  # a new value, resealed
    assert (draft.built, draft.report.to_list(), draft.record) == before
    assert filed.record != draft.record and filed.built.aip_digest == outcome.sha256
    # The submission's context was never pointed at an AIP: each sealing checked a copy.
    assert filing.ctx.aip_root is None and filing.ctx.catalogue_record is None
    assert filing.ctx.aip_inspection is None


def test_each_file_is_identified_once_per_filing(
        archive: Archive, make_case: Callable[..., Path], monkeypatch) -> None:
    import sys

    from dangan.packages.formats import identify as formats_identify

    real = formats_identify.identify
    calls: list[str] = []

    def counting(path, *args, **kwargs):
        calls.append(Path(path).name)
        return real(path, *args, **kwargs)

    for module in list(sys.modules.values()):  # every module that bound the function
        if getattr(module, "identify", None) is real:
            monkeypatch.setattr(module, "identify", counting)
    path = make_case()
    files = sorted(p.name for p in (path / "files").rglob("*") if p.is_file())
    outcome = ingest(archive, path, index=False)
    assert outcome.status == "archived"
    assert sorted(calls) == files  # the checks and the AIP description share one reading

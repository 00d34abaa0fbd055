"""Schedules and the due list, on real filed cases, through the CLI an archivist uses."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dangan.archive.models import Item
from dangan.retention import schedule
from dangan.retention.errors import PeriodUnknown


def test_due_date_is_first_of_january_after_completion_year_plus_period(archive, file_case,
                                                                        cli):
    ten = file_case("D10", 2015)
    thirty = file_case("D30", 2015)
    forever = file_case("Y", 1990)
    with archive.db.session() as s:
        due = {i.aip_id: (i.year, i.due_on) for i in s.scalars(select(Item))}
    assert due[ten.aip_id] == (2015, date(2026, 1, 1))
    assert due[thirty.aip_id] == (2015, date(2046, 1, 1))
    assert due[forever.aip_id] == (1990, None)

    code, sch = cli("retention", "schedule", ten.archival_code, "--json")
    assert code == 0
    assert sch["retention"] == "D10" and sch["starts_on"] == "2016-01-01"
    assert sch["due_on"] == "2026-01-01"
    assert "令第3号" in sch["legal_basis"] and sch["configured_retention"] == "D10"
    code, sch = cli("retention", "schedule", forever.aip_id, "--json")
    assert sch["due_on"] is None and sch["retention_name"] == "永久"


def test_due_list_lists_what_is_due_grouped_for_appraisal(archive, file_case, cli):
    ten = file_case("D10", 2015)
    file_case("D10", 2016)
    file_case("D30", 1990)
    file_case("Y", 1980)
    code, before = cli("retention", "due", "--as-of", "2025-12-31", "--json")
    assert code == 0 and before["total"] == 1  # only the 30-year item of 1990 (due 2021)
    code, due = cli("retention", "due", "--as-of", "2026-01-01", "--json")
    assert due["total"] == 2 and due["held"] == 0
    assert ten.aip_id in {i["aip_id"] for i in due["items"]}
    groups = {(g["service_item_code"], g["year"]): g["items"] for g in due["groups"]}
    assert sum(groups.values()) == 2 and all(g["retention"] for g in due["groups"])
    assert {y for (_, y) in groups} == {2015, 1990}
    code, text = cli("retention", "due", "--as-of", "2100-01-01")
    assert code == 0 and "到期 4 件" not in text and "到期 3 件" in text  # 永久 never due
    code, text = cli("retention", "due", "--as-of", "2026-13-01")
    assert code == 2 and "retention.bad_input" in text


def test_a_period_that_cannot_be_computed_is_an_error_not_a_guess(archive, file_case):
    with pytest.raises(PeriodUnknown) as exc:
        schedule.compute_due(2015, "D7")
    assert exc.value.code == "retention.period_unknown"
    with pytest.raises(PeriodUnknown):
        schedule.compute_due(None, "D10")
    outcome = file_case("D10", 2015)
    with archive.db.session() as s:  # a catalogue whose retention was tampered with
        s.get(Item, outcome.aip_id).retention = "D15"
    with archive.db.session() as s, pytest.raises(PeriodUnknown) as exc:
        schedule.schedule_of(s, archive.filing_config, outcome.aip_id)
    assert "D15" in exc.value.message


def test_migration_gives_items_filed_before_it_their_due_dates(archive, file_case):
    from alembic import command

    from dangan.archive.db import alembic_config, migrate

    ten, forever = file_case("D10", 2015), file_case("Y", 2015)
    cfg = alembic_config(archive.db.url)
    with archive.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")  # the catalogue as it was before retention
    migrate(archive.db.engine)
    with archive.db.session() as s:
        assert s.get(Item, ten.aip_id).due_on == date(2026, 1, 1)
        assert s.get(Item, forever.aip_id).due_on is None
        assert schedule.due_list(s, archive.filing_config, date(2026, 1, 1)).total == 1

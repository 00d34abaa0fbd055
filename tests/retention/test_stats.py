"""Statistics from SQL aggregates, as tables, CSV and JSON, on real filed cases."""

from __future__ import annotations

import csv
import io

from dangan.archive.timeutil import SHANGHAI, utcnow
from dangan.ingest.service import ingest


def test_holdings_intake_and_retention_statistics(archive, make_case, file_case, cli):
    a = file_case("D10", 2015)
    file_case("D10", 2015)
    file_case("D30", 2019)
    file_case("Y", 2019)
    bad = make_case()
    (bad / "files" / next(p.name for p in (bad / "files").iterdir())).write_bytes(b"tampered")
    assert ingest(archive, bad).status == "rejected"

    code, text = cli("stats", "holdings", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0].keys() >= {"类别", "年度", "保管期限", "状态", "件数", "字节数"}
    ten = [r for r in rows if r["保管期限"] == "10年"]
    assert len(ten) == 1 and ten[0]["年度"] == "2015" and ten[0]["件数"] == "2"
    assert sum(int(r["件数"]) for r in rows) == 4 and all(int(r["字节数"]) > 0 for r in rows)

    code, table = cli("stats", "intake", "--json")
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    assert code == 0 and table["rows"] == [
        {**table["rows"][0], "month": month, "items": 4, "rejected": 1}]

    code, out = cli("hold", "place", "--item", a.aip_id, "--kind", "legal", "--reason", "诉讼",
                    "--authority", "法院函")
    assert code == 0, out
    code, table = cli("stats", "retention", "--as-of", "2026-01-01", "--json")
    by = {r["retention"]: r for r in table["rows"]}
    assert (by["D10"]["items"], by["D10"]["due"], by["D10"]["held"]) == (2, 2, 1)
    assert (by["D30"]["items"], by["D30"]["due"]) == (1, 0)
    assert (by["Y"]["items"], by["Y"]["due"], by["D50"]["items"]) == (1, 0, 0)
    code, text = cli("stats", "retention", "--as-of", "2026-01-01")
    assert code == 0 and "保管期限与处置" in text and "10年\t2\t2\t1" in text

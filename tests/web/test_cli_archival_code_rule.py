"""An archival-code rule that breaks DA/T 22 is refused by ``dangan init`` as bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dangan.packages.archival_code import ArchivalCodeError, ArchivalCodeRule
from dangan.packages.errors import PackageError
from dangan.web.cli import main


@pytest.mark.parametrize("fonds", ["z109", "Z-109", "TOOLONGFONDS"])
def test_init_with_a_fonds_code_outside_the_rule_exits_2_and_creates_nothing(
        tmp_path: Path, fonds: str) -> None:
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["--home", str(home), "init", "--fonds", fonds])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("错误 [package.archival_code]：") and fonds in result.stderr
    assert not home.exists()


def test_a_code_that_does_not_parse_carries_the_package_code() -> None:
    rule = ArchivalCodeRule(fonds="Z109", doc_class="SB", item_width=5)
    assert rule.parse("Z109-SB·2024-Y-GL-00001").item_no == 1
    for bad in ("Z109-SB·2024-Y-GL-0001", "Z109-SB·2024-Y-XX-00001", "Z109-SB·2024-Y-GL-00000"):
        with pytest.raises(ArchivalCodeError) as caught:
            rule.parse(bad)
        assert isinstance(caught.value, PackageError)
        assert caught.value.code == "package.archival_code"

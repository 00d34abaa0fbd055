"""Item 1 of issue 9, in general: no submission, valid or hostile, ends in exit 1.

Hypothesis mutates a valid signed submission — values anywhere in case.json (re-signed
with the trusted key, so the change gets past the signature), raw case.json bytes, and
the tree (files removed, added, renamed, truncated; paths re-spelt) — and sends each
through ``dangan ingest``. Every outcome must be archived (0), unusable (2) or rejected
(3), never an internal error or a traceback. Derandomized and bounded for CI.
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangan.web.cli import main
from tests.casekit import sign_case

JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(
    max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
# A longer hunt: DANGAN_FUZZ_EXAMPLES=500 DANGAN_FUZZ_RANDOM=1 pytest …
EXAMPLES = int(os.environ.get("DANGAN_FUZZ_EXAMPLES", "30"))
DERANDOMIZE = os.environ.get("DANGAN_FUZZ_RANDOM") != "1"
NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                min_size=1, max_size=24).filter(lambda n: n not in (".", "..")
                                                 and len(n.encode()) < 200)


def _containers(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every object and array in the case, for a mutation to land anywhere."""
    out = [path]
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list):
            out.extend(_containers(value, (*path, key)))
    return out


def _at(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


def _mutate_case(data: st.DataObject, case: dict[str, Any]) -> None:
    target = _at(case, data.draw(st.sampled_from(_containers(case))))
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    action = data.draw(st.sampled_from(["replace", "delete", "insert", "path"]))
    if action == "path" and case.get("files"):
        entry = data.draw(st.sampled_from([f for f in case["files"] if isinstance(f, dict)]
                                          or [{}]))
        path = str(entry.get("path", ""))
        entry["path"] = data.draw(st.sampled_from([
            "files/" + path, "files/files/" + path, "./" + path, "../" + path, "/" + path,
            path.upper(), unicodedata.normalize("NFD", path + "é"), path + "/", "",
        ]))
    elif action == "replace" and keys:
        target[data.draw(st.sampled_from(keys))] = data.draw(JSON_VALUES)
    elif action == "delete" and keys:
        del target[data.draw(st.sampled_from(keys))]
    elif isinstance(target, dict):
        target[data.draw(st.text(max_size=10))] = data.draw(JSON_VALUES)
    else:
        target.append(data.draw(JSON_VALUES))


def _mutate_tree(data: st.DataObject, root: Path) -> None:
    files = sorted(p for p in (root / "files").rglob("*") if p.is_file())
    action = data.draw(st.sampled_from(["remove", "add", "rename", "truncate", "garble",
                                        "dir", "extra"]))
    victim = data.draw(st.sampled_from(files)) if files else None
    if action == "remove" and victim:
        victim.unlink()
    elif action == "add":
        (root / "files" / data.draw(NAMES)).write_bytes(data.draw(st.binary(max_size=64)))
    elif action == "rename" and victim:
        new = victim.with_name(data.draw(NAMES))
        if not new.exists():
            victim.rename(new)
    elif action == "truncate" and victim:
        victim.write_bytes(victim.read_bytes()[: data.draw(st.integers(0, 200))])
    elif action == "garble" and victim:
        raw = bytearray(victim.read_bytes())
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        victim.write_bytes(bytes(raw))
    elif action == "dir":
        (root / "files" / data.draw(NAMES)).mkdir(exist_ok=True)
    elif action == "extra":
        (root / data.draw(NAMES)).write_bytes(b"x")


def test_no_submission_ends_in_an_internal_error(archive, make_case, sender_key, tmp_path):
    base = make_case()
    runner = CliRunner()
    seen_exits: set[int] = set()
    counter = iter(range(1_000_000))

    @settings(max_examples=EXAMPLES, derandomize=DERANDOMIZE, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data: st.DataObject) -> None:
        root = tmp_path / f"m{next(counter)}"
        shutil.copytree(base, root)
        case = json.loads((root / "case.json").read_text("utf-8"))
        for _ in range(data.draw(st.integers(1, 3))):
            _mutate_case(data, case)
        text = json.dumps(case, ensure_ascii=data.draw(st.booleans()))
        raw = text.encode("utf-8", "surrogatepass")
        if data.draw(st.integers(0, 9)) == 0:  # sometimes break the bytes themselves
            cut = data.draw(st.integers(0, len(raw)))
            raw = raw[:cut] + data.draw(st.binary(max_size=8)) + raw[cut:]
        (root / "case.json").write_bytes(raw)
        if data.draw(st.booleans()):
            _mutate_tree(data, root)
        sign_case(root, sender_key)
        result = runner.invoke(main, ["--home", str(archive.home), "ingest", str(root),
                                      "--json"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 2, 3), result.output[-3000:]
        seen_exits.add(result.exit_code)
        shutil.rmtree(root, ignore_errors=True)

    one()
    print("exit codes seen:", sorted(seen_exits))
    assert {2, 3} <= seen_exits  # the mutations reached both the parser and the checks

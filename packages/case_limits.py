"""Bounds on case.json, enforced on its bytes before it is parsed.

A case.json with a million events once ran for minutes and took gigabytes before it
was killed: ``json.loads`` builds everything first and the checks look afterwards. Here
a streaming pass (ijson, C backend) counts without building, so a hostile file costs
one linear scan of at most ``max_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import ijson


@dataclass(frozen=True)
class CaseLimits:
    """How big a case.json may be before it is parsed at all.

    The counts follow the scheme's own maxima (``METADATA``), so a case the checks could
    accept is never refused here; the byte and value caps bound parse time and memory.
    """

    max_bytes: int = 16 << 20
    max_events: int = 1000
    max_parties: int = 1001  # the applicant and up to 1000 subjects
    max_files: int = 10_000
    max_depth: int = 16
    max_values: int = 500_000  # every JSON value (object, array, string, number …)


COUNTED = {"events": "events", "subjects": "parties", "files": "files"}
COUNT_NAMES = {"events": "过程信息（events）", "parties": "当事人（applicant 与 subjects）",
               "files": "电子文件（files）"}


def case_limit_problem(data: bytes, limits: CaseLimits) -> str | None:
    """Why ``data`` is too large to parse as case.json (Chinese), or None.

    A streaming pass (ijson's C backend, ``basic_parse``: no prefix strings, which grow
    with depth) counts events, parties, files, nesting depth and values without building
    anything. Malformed JSON is left to the real parser, which reports where it breaks.
    """
    if len(data) > limits.max_bytes:
        return f"case.json 大小 {len(data)} 字节，超过上限 {limits.max_bytes} 字节"
    counts = {"events": 0, "parties": 1, "files": 0}
    caps = {"events": limits.max_events, "parties": limits.max_parties, "files": limits.max_files}
    keys: list[str | None] = []  # per open container: the current key of a map, None for arrays
    values = 0
    try:
        for event, value in ijson.basic_parse(data, use_float=True):
            if event == "map_key":
                keys[-1] = value
                continue
            if event in ("end_map", "end_array"):
                keys.pop()
                continue
            values += 1
            if values > limits.max_values:
                return f"case.json 含超过 {limits.max_values} 个数据项，超过上限"
            if len(keys) == 2 and keys[1] is None and keys[0] in COUNTED:
                kind = COUNTED[keys[0]]
                counts[kind] += 1
                if counts[kind] > caps[kind]:
                    return f"case.json 的{COUNT_NAMES[kind]}超过 {caps[kind]} 项的上限，未予解析"
            if event in ("start_map", "start_array"):
                keys.append("" if event == "start_map" else None)
                if len(keys) > limits.max_depth:
                    return f"case.json 嵌套层数超过上限 {limits.max_depth}"
    except (ijson.JSONError, ValueError, ArithmeticError):
        return None  # not JSON: the parser says where, as for any other malformed case.json
    return None

"""The check engine: a registry of small checks, run all at once for a stage.

The engine knows no particular check. A check is one function declared with ``@check``:
its DA/T 70 code (or a ``DG-`` code for domain items), nature, name, stages, group and
whether a failure blocks filing travel with the function as its ``CheckSpec``. Declaring
registers nothing: a ``CheckRegistry`` object is filled explicitly (``add``/``add_module``;
``dangan.packages.checks.default_registry`` lists the item modules) and handed to
``run_checks``. Every check of a stage runs, even after failures, so the report is
complete (DA/T 70 style).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..problem import Problem, as_dicts
from ..vocabulary import NATURES

if TYPE_CHECKING:
    from .context import CheckContext

Evidence = list[Problem | dict[str, Any]]


class Nature(StrEnum):
    AUTHENTICITY = "authenticity"  # 真实性
    INTEGRITY = "integrity"  # 完整性
    USABILITY = "usability"  # 可用性
    SECURITY = "security"  # 安全性


class Stage(StrEnum):
    GD = "GD"  # 归档 filing
    YJ = "YJ"  # 移交与接收 transfer
    BC = "BC"  # 长期保存 long-term keeping


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"


NATURE_NAMES = {n: NATURES[n.value] for n in Nature}  # labels: ``vocabulary``


@dataclass
class Verdict:
    """What one check function returns."""

    result: Result
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def ok(cls, message: str, evidence: Evidence | None = None) -> Verdict:
        return cls(Result.PASS, message, as_dicts(evidence or []))

    @classmethod
    def fail(cls, message: str, evidence: Evidence | None = None) -> Verdict:
        return cls(Result.FAIL, message, as_dicts(evidence or []))

    @classmethod
    def warn(cls, message: str, evidence: Evidence | None = None) -> Verdict:
        return cls(Result.WARN, message, as_dicts(evidence or []))

    @classmethod
    def from_problems(
        cls,
        problems: Evidence,
        ok_message: str,
        fail_message: str,
        *,
        result_on_problems: Result = Result.FAIL,
    ) -> Verdict:
        """Pass with ``ok_message`` when ``problems`` is empty, else fail listing them all.

        Each problem (a ``Problem``, or an evidence dict read back) becomes an evidence
        dict; its ``note`` (if any) is joined into the message so a person sees every
        offending file or field, not only the first.
        """
        if not problems:
            return cls.ok(ok_message)
        problems = as_dicts(problems)
        notes = [p["note"] for p in problems if p.get("note")]
        shown = "；".join(notes[:10]) + (f"；等共 {len(notes)} 处" if len(notes) > 10 else "")
        message = f"{fail_message}：{shown}" if shown else fail_message
        return cls(result_on_problems, message, problems)


CheckFunc = Callable[["CheckContext"], Verdict]


@dataclass(frozen=True)
class CheckSpec:
    code: str
    nature: Nature
    name: str  # Chinese name of the item (检测项目)
    stages: frozenset[Stage]
    blocking: bool
    func: CheckFunc
    group: str = "submission"


@dataclass
class CheckResult:
    code: str
    nature: Nature
    name: str
    stage: Stage
    result: Result
    message: str
    blocking: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "nature": str(self.nature),
            "name": self.name,
            "stage": str(self.stage),
            "result": str(self.result),
            "blocking": self.blocking,
            "message": self.message,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            code=d["code"],
            nature=Nature(d["nature"]),
            name=d.get("name", ""),
            stage=Stage(d.get("stage", "GD")),
            result=Result(d["result"]),
            message=d.get("message", ""),
            blocking=bool(d.get("blocking", True)),
            evidence=list(d.get("evidence", [])),
        )


@dataclass
class CheckReport:
    stage: Stage
    results: list[CheckResult]

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.result is Result.FAIL and r.blocking]

    @property
    def accepted(self) -> bool:
        return not self.blocking_failures

    def extend(self, other: CheckReport) -> None:
        self.results.extend(other.results)

    def to_list(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.results]


SPEC_ATTRIBUTE = "check_spec"


class CheckRegistry:
    """The checks an engine run may use; filled explicitly, never by importing a module."""

    def __init__(self, specs: Iterable[CheckSpec] = ()) -> None:
        self._specs: dict[str, CheckSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: CheckSpec) -> None:
        if spec.code in self._specs:
            raise ValueError(f"check code {spec.code} registered twice")
        self._specs[spec.code] = spec

    def add(self, func: CheckFunc) -> None:
        """Register a function declared with ``@check``."""
        self.register(spec_of(func))

    def add_module(self, module: ModuleType) -> None:
        """Register every ``@check`` function defined in ``module`` (not ones it imports)."""
        for value in vars(module).values():
            spec = getattr(value, SPEC_ATTRIBUTE, None)
            if isinstance(spec, CheckSpec) and value.__module__ == module.__name__:
                self.register(spec)

    def specs(self, stage: Stage, group: str | None = None) -> list[CheckSpec]:
        chosen = [s for s in self._specs.values()
                  if stage in s.stages and (group is None or s.group == group)]
        return sorted(chosen, key=lambda s: _code_key(s.code))

    def get(self, code: str) -> CheckSpec:
        return self._specs[code]

    def all(self) -> list[CheckSpec]:
        return sorted(self._specs.values(), key=lambda s: _code_key(s.code))


def _code_key(code: str) -> tuple:
    parts = code.split("-")
    return (parts[0] != "GD" and parts[0] != "YJ" and parts[0] != "BC", parts[0]) + tuple(
        int(p) if p.isdigit() else 0 for p in parts[1:]
    )


def spec_of(func: CheckFunc) -> CheckSpec:
    spec = getattr(func, SPEC_ATTRIBUTE, None)
    if not isinstance(spec, CheckSpec):
        raise TypeError(f"{func!r} is not declared with @check")
    return spec


def check(
    code: str,
    nature: Nature,
    name: str,
    *,
    stages: Iterable[Stage | str] = (Stage.GD,),
    blocking: bool = True,
    group: str = "submission",
) -> Callable[[CheckFunc], CheckFunc]:
    """Declare a check function: attach its ``CheckSpec``; registration is explicit.

    ``group`` says what the check looks at: ``submission`` (the received case, before an
    AIP exists), ``package`` (a built AIP: its structure, manifests, description) or
    ``catalogue`` (the catalogue rows read back from the database).
    """

    def decorate(func: CheckFunc) -> CheckFunc:
        spec = CheckSpec(code=code, nature=nature, name=name,
                         stages=frozenset(Stage(s) for s in stages), blocking=blocking,
                         func=func, group=group)
        setattr(func, SPEC_ATTRIBUTE, spec)
        return func

    return decorate


def run_checks(
    ctx: CheckContext,
    stage: Stage,
    *,
    group: str | None = None,
    registry: CheckRegistry,
) -> CheckReport:
    """Run every check of ``registry`` for ``stage`` (optionally one group) against ``ctx``.

    A check that raises is reported as a failure naming the error: a check that could
    not run must never look like a pass.
    """
    results: list[CheckResult] = []
    for spec in registry.specs(stage, group):
        try:
            verdict = spec.func(ctx)
        except Exception as exc:  # noqa: BLE001 - reported, never swallowed
            verdict = Verdict.fail(
                f"检查程序无法完成本项检测（{type(exc).__name__}: {exc}），不能判定为通过",
                [{"error": type(exc).__name__, "detail": str(exc),
                  "trace": traceback.format_exc(limit=3)}],
            )
        results.append(
            CheckResult(
                code=spec.code,
                nature=spec.nature,
                name=spec.name,
                stage=stage,
                result=verdict.result,
                message=verdict.message,
                blocking=spec.blocking,
                evidence=verdict.evidence,
            )
        )
    return CheckReport(stage=stage, results=results)

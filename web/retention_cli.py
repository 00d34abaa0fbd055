"""What the retention-area commands share: opening the archive (which first completes an
interrupted destruction), the refusal → exit 3 mapping, dates, and the option pair every
command repeats (``--json`` + the click context).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from dangan.archive.composition import create_archive
from dangan.archive.instance import Archive
from dangan.archive.timeutil import SHANGHAI, utcnow
from dangan.packages.archival_code import RETENTION_NAMES
from dangan.retention.errors import RetentionInputError, RetentionRefused

from .lifecycle import complete_interrupted
from .render import emit_json

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def open_for_retention(ctx: click.Context) -> Archive:
    """Open the archive and first complete what an interrupted run left (destructions,
    their registers, transfer confirmations)."""
    archive = create_archive(ctx.obj["home"])
    complete_interrupted(archive)
    return archive


def refusable(ctx: click.Context, fn: Callable[[], T]) -> T:
    """Run a service call; a refusal by the rules prints its code and exits 3."""
    try:
        return fn()
    except RetentionRefused as exc:
        if ctx.params.get("as_json"):
            emit_json({"status": "refused", "error": exc.to_dict()})
        else:
            click.echo(f"拒绝 [{exc.code}]：{exc.message}", err=True)
            for d in exc.details[:10]:
                click.echo(f"  - {d}", err=True)
        ctx.exit(3)
        raise  # unreachable: ctx.exit raises


def as_of_date(text: str | None) -> date:
    if not text:
        return utcnow().astimezone(SHANGHAI).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise RetentionInputError(f"日期 {text!r} 应为 YYYY-MM-DD") from exc


def retention_name(code: str | None) -> str:
    return RETENTION_NAMES.get(code or "", code or "-")


def json_command(fn: F) -> F:
    """``--json`` and the click context, the tail of every command here."""
    return click.option("--json", "as_json", is_flag=True)(click.pass_context(fn))  # type: ignore[return-value]


def as_of_option(help_text: str = "按此日期计算（默认今天）") -> Callable[[F], F]:
    return click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help=help_text)


def emit_view(view: Any, as_json: bool, printer: Callable[[Any], None]) -> None:
    """A service view as JSON (``to_dict``) or through the command's printer."""
    if as_json:
        emit_json(view.to_dict())
    else:
        printer(view)

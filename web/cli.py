"""The ``dangan`` command line: thin, it parses arguments and calls services.

Exit codes: 0 done, 1 internal error, 2 unusable input or usage, 3 rejected by the
checks (``ingest``) or invalid (``package validate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dangan.packages.errors import DanganError

from . import (
    commands_api,
    commands_archive,
    commands_audit,
    commands_db,
    commands_ingest,
    commands_retention,
    commands_search,
    commands_transfer,
    commands_verify,
)
from .commands_serve import register as register_serve_command
from .commands_user import register as register_user_commands
from .render import emit_json

JSON_META = "dangan.json"


def _remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """``--json`` given to any command: recorded in ``ctx.meta`` (shared by nested contexts),
    so an error raised inside the command is reported as JSON too."""
    if value:
        ctx.meta[JSON_META] = True
    return value


def mark_json_options(command: click.Command) -> None:
    """Give every ``--json`` flag in the command tree the callback above (once, at startup)."""
    for param in command.params:
        if isinstance(param, click.Option) and "--json" in param.opts and param.callback is None:
            param.callback = _remember_json
    for sub in getattr(command, "commands", {}).values():
        mark_json_options(sub)


class DanganGroup(click.Group):
    """Maps every layer's errors to a message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DanganError as exc:
            if ctx.meta.get(JSON_META):
                emit_json({"status": "error", "error": exc.to_dict()})
            else:
                click.echo(f"错误 [{exc.code}]：{exc.message}", err=True)
                for d in exc.details[:20]:
                    click.echo(f"  - {d}", err=True)
            code = getattr(exc, "exit_code", None) or (
                1 if exc.code in ("archive.store", "archive.error") else 2)
            ctx.exit(code)


@click.group(cls=DanganGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), envvar="DANGAN_HOME",
              help="档案实例目录（默认 ./dangan-data，或环境变量 DANGAN_HOME）")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Dangan 社会保险业务电子档案系统。"""
    ctx.obj = {"home": home}


commands_archive.register(main)
commands_ingest.register(main)
commands_search.register(main)
commands_audit.register(main)
commands_verify.register(main)
register_user_commands(main)
register_serve_command(main)
commands_retention.register(main)
commands_transfer.register(main)
commands_api.register(main)
commands_db.register(main)
mark_json_options(main)


if __name__ == "__main__":  # pragma: no cover
    main()

"""``dangan api token add|list|revoke``: tokens of the JSON API, issued at the console.

A system token (``add SYSTEM``) lets one case-handling system submit cases as itself and
nothing else; a personal token (``add --user LOGIN``) acts with that user's roles. The
token is printed once: only its SHA-256 is kept.
"""

from __future__ import annotations

import click

from dangan.archive import api_tokens

from .commands_archive import cli_actor, open_archive
from .render import emit_json


def register(main: click.Group) -> None:
    main.add_command(api)


@click.group()
def api() -> None:
    """JSON API（/api/v1）的访问令牌。"""


@api.group("token")
def token() -> None:
    """签发、列出、撤销 API 令牌。"""


@token.command("add")
@click.argument("system", required=False)
@click.option("--user", "login", default=None, help="为该用户签发个人令牌（按其角色使用 API）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def token_add(ctx: click.Context, system: str | None, login: str | None, as_json: bool) -> None:
    """为案件办理系统 SYSTEM（只能以自身名义提交办件）或 --user 用户签发令牌；令牌只显示这一次。"""
    if (system is None) == (login is None):
        raise click.UsageError("请给出案件办理系统名 SYSTEM，或 --user 登录名（二者选一）")
    archive = open_archive(ctx)
    token_id, secret = api_tokens.add_token(archive.db, system=system, login=login,
                                            actor=cli_actor())
    if as_json:
        emit_json({"id": token_id, "system": system, "login": login, "token": secret})
        return
    who = f"案件办理系统 {system}" if system else f"用户 {login}"
    click.echo(f"已为{who}签发令牌 #{token_id}（只显示这一次，请妥善保存）：")
    click.echo(secret)
    click.echo("使用：curl -H 'Authorization: Bearer <令牌>' -F case=@办件.zip "
               "http://服务器/api/v1/cases")


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """列出令牌（不含令牌本身）。"""
    rows = api_tokens.list_tokens(open_archive(ctx).db)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        who = f"系统 {r['system']}" if r["system"] else f"用户 {r['login']}"
        state = f"已撤销 {r['revoked_at']}" if r["revoked_at"] else "有效"
        click.echo(f"#{r['id']}\t{r['prefix']}…\t{who}\t{state}\t签发 {r['created_at']}")


@token.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "login", default=None, help="撤销该用户的全部个人令牌")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int | None, login: str | None) -> None:
    """撤销令牌 TOKEN_ID（dangan api token list 中的编号），或 --user 用户的全部个人令牌。"""
    if (token_id is None) == (login is None):
        raise click.UsageError("请给出令牌编号 TOKEN_ID，或 --user 登录名（二者选一）")
    archive = open_archive(ctx)
    if login is not None:
        count = api_tokens.revoke_user_tokens(archive.db, login, actor=cli_actor())
        click.echo(f"已撤销用户 {login} 的个人令牌 {count} 个")
        return
    api_tokens.revoke_token(archive.db, token_id, actor=cli_actor())
    click.echo(f"已撤销令牌 #{token_id}")

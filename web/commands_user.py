"""``dangan user``: accounts and roles from the server console.

The console bootstraps the first security officer and system administrator; later the
web UI is where they work. Every command here acts as the OS user running it (recorded
in the audit log), and the account service enforces the same rules as on the web.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dangan.archive import accounts, second_factor
from dangan.archive.permissions import ROLES
from dangan.archive.timeutil import local

from .commands_archive import cli_actor, open_archive
from .render import emit_json


def register(main: click.Group) -> None:
    main.add_command(user)


@click.group()
def user() -> None:
    """用户与角色（三员分立：系统管理员、安全保密管理员、安全审计员互斥）。"""


def _role_names(roles: tuple[str, ...] | list[str]) -> str:
    return "、".join(f"{ROLES.get(r, r)}({r})" for r in roles) or "（无角色）"


@user.command("add")
@click.argument("login")
@click.option("--name", "display_name", required=True, help="姓名")
@click.option("--role", "roles", multiple=True, type=click.Choice(list(ROLES)),
              help="授予的角色（可重复）")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取初始口令（否则随机生成并显示）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_add(ctx: click.Context, login: str, display_name: str, roles: tuple[str, ...],
             password_stdin: bool, as_json: bool) -> None:
    """创建用户 LOGIN 并授予角色；显示初始口令（除非用 --password-stdin 给出）。"""
    archive = open_archive(ctx)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    actor = cli_actor()
    view, password = accounts.create_user(archive.db, login, display_name, password=password,
                                          by=None, console_actor=actor)
    for role in roles:
        view = accounts.grant_role(archive.db, login, role, by=None, console_actor=actor)
    if as_json:
        emit_json({**view.to_dict(), **({} if password_stdin else {"password": password})})
        return
    click.echo(f"已创建用户 {view.login}（{view.display_name}），角色：{_role_names(view.roles)}")
    if not password_stdin:
        click.echo(f"初始口令：{password}")
    click.echo("需要动态口令的角色请运行 dangan user totp " + login + "，或在首次登录时扫码登记")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """列出用户、角色和状态。"""
    archive = open_archive(ctx)
    views = accounts.list_users(archive.db)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    if not views:
        click.echo("还没有用户：用 dangan user add 创建")
    for v in views:
        state = "已停用" if v.disabled else "已锁定" if v.locked else "正常"
        last = local(v.last_signin_at) if v.last_signin_at else "从未登录"
        click.echo(f"{v.login}\t{v.display_name}\t{_role_names(v.roles)}\t{state}\t"
                   f"动态口令{'已登记' if v.totp_enrolled else '未登记'}\t{last}")


@user.command("grant")
@click.argument("login")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.pass_context
def user_grant(ctx: click.Context, login: str, role: str) -> None:
    """授予用户 LOGIN 角色 ROLE。"""
    archive = open_archive(ctx)
    view = accounts.grant_role(archive.db, login, role, by=None, console_actor=cli_actor())
    click.echo(f"已授予 {login} 角色 {ROLES[role]}；现有角色：{_role_names(view.roles)}")


@user.command("revoke")
@click.argument("login")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.pass_context
def user_revoke(ctx: click.Context, login: str, role: str) -> None:
    """撤销用户 LOGIN 的角色 ROLE（授予记录保留）。"""
    archive = open_archive(ctx)
    view = accounts.revoke_role(archive.db, login, role, by=None, console_actor=cli_actor())
    click.echo(f"已撤销 {login} 的角色 {ROLES[role]}；现有角色：{_role_names(view.roles)}")


@user.command("unlock")
@click.argument("login")
@click.pass_context
def user_unlock(ctx: click.Context, login: str) -> None:
    """解锁因多次登录失败被锁定的用户。"""
    archive = open_archive(ctx)
    accounts.unlock_user(archive.db, login, by=None, console_actor=cli_actor())
    click.echo(f"已解锁 {login}")


@user.command("password")
@click.argument("login")
@click.pass_context
def user_password(ctx: click.Context, login: str) -> None:
    """重置 LOGIN 的口令（账户可能泄露时）：显示临时口令，用户下次登录时须先修改；
    其全部登录立即失效，个人 API 令牌全部撤销。"""
    archive = open_archive(ctx)
    done = accounts.reset_password(archive.db, login, by=None, console_actor=cli_actor())
    click.echo(f"已重置 {login} 的口令，临时口令：{done.password}")
    click.echo("请当面交给本人；其下次登录时须先设置新口令，此前的登录已全部失效")
    click.echo(f"已撤销其个人 API 令牌 {done.tokens_revoked} 个"
               + ("（如仍需要，请用 dangan api token add --user 重新签发）"
                  if done.tokens_revoked else ""))


@user.command("totp")
@click.argument("login")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path),
              help="另存二维码为 PNG 文件")
@click.pass_context
def user_totp(ctx: click.Context, login: str, png_path: Path | None) -> None:
    """为 LOGIN 登记（或重置）动态口令：显示 otpauth 地址和二维码，用验证器应用扫描。"""
    import segno

    archive = open_archive(ctx)
    uri = second_factor.enrol_totp_at_console(archive.db, login, by=None, console_actor=cli_actor())
    qr = segno.make(uri, error="m")
    click.echo(f"otpauth 地址：{uri}")
    click.echo(_qr_text(qr))
    if png_path is not None:
        qr.save(str(png_path), kind="png", scale=6, border=4)
        click.echo(f"二维码已保存：{png_path}")
    click.echo("请将二维码当面交给用户扫描；此前的动态口令即刻失效")


def _qr_text(qr: object) -> str:
    """The QR code as text blocks (two modules per character row), for a terminal."""
    matrix = [list(row) for row in qr.matrix]  # type: ignore[attr-defined]
    border = 2
    width = len(matrix[0]) + 2 * border
    rows = [[0] * width for _ in range(border)]
    rows += [[0] * border + [int(bool(v)) for v in r] + [0] * border for r in matrix]
    rows += [[0] * width for _ in range(border + 1)]
    chars = {(0, 0): "█", (1, 0): "▀", (0, 1): "▄", (1, 1): " "}  # dark = space on light
    out = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=False):
        out.append("".join(chars[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(out)

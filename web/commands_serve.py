"""``dangan serve``: the web application under gunicorn (a production WSGI server).

Each worker builds its own app (``create_app``) after the fork, so no database
connection or index handle is shared between processes.
"""

from __future__ import annotations

from typing import Any

import click

from .commands_archive import open_archive
from .lifecycle import complete_interrupted


def register(main: click.Group) -> None:
    main.add_command(serve)


class _Gunicorn:
    """A gunicorn application whose workers each call ``create_app(config)``."""

    def __new__(cls, config: dict[str, Any], options: dict[str, Any]) -> Any:
        from gunicorn.app.base import BaseApplication

        class App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                from .app import create_app

                return create_app(config)

        return App()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--insecure-cookies", is_flag=True,
              help="会话 Cookie 不带 Secure 标志（仅用于无 HTTPS 的内网演示；本机回环地址无需此项）")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int,
          insecure_cookies: bool) -> None:
    """以 gunicorn 提供 Web 界面并显示访问地址。"""
    archive = open_archive(ctx)  # fail early (exit 2) when the home is not an instance
    try:
        complete_interrupted(archive)  # a destruction killed midway is finished first
    finally:
        archive.close()
    home = str(archive.home)
    config: dict[str, Any] = {"DANGAN_HOME": home}
    if insecure_cookies:
        config["SESSION_COOKIE_SECURE"] = False
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Dangan 档案系统 Web 界面：http://{shown}:{port}/  （按 Ctrl+C 停止）", err=False)
    options = {"bind": f"{shown}:{port}", "workers": workers, "threads": threads,
               "worker_class": "gthread", "timeout": 120, "accesslog": "-",
               "proc_name": "dangan-web"}
    _Gunicorn(config, options).run()

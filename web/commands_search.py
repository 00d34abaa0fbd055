"""CLI commands for clerks: search the archive (``dangan search``), rebuild the index
(``dangan index rebuild``). Every word given to ``search`` is searched for."""

from __future__ import annotations

import click

from .commands_archive import open_archive
from .render import emit_json

CLASSIFICATIONS = ("public", "internal", "restricted")


def register(main: click.Group) -> None:
    main.add_command(search)
    main.add_command(index)


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("words", nargs=-1, required=True)
@click.option("--filter", "filters", multiple=True, metavar="K=V",
              help="筛选：item= agency= year= outcome= channel= category= retention= …（可重复）")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@click.option("--page-size", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--classification", "classifications", multiple=True,
              type=click.Choice(CLASSIFICATIONS), help="只看这些密级（默认全部）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(ctx: click.Context, words: tuple[str, ...], filters: tuple[str, ...], page: int,
           page_size: int, classifications: tuple[str, ...], as_json: bool) -> None:
    """检索档案：姓名（汉字或拼音）、身份证号（全号或后 4/6 位）、单位、办件编号、档号、
    文号、文件中的任何词语、"带引号的短语"、字段:值、AND/OR/NOT、date:2024-01-01..2024-06-30。

    重建索引用 dangan index rebuild。
    """
    # jieba and pypinyin take a moment to load: only when a search runs.
    from dangan.search.feed import flag_ocr_pending, service_for
    from dangan.search.interface import Access
    from dangan.search.service import parse_filters, render_text, result_json

    archive = open_archive(ctx)
    access = Access(classifications=frozenset(classifications or CLASSIFICATIONS))
    result = service_for(archive).search(" ".join(words), filters=parse_filters(filters),
                                         page=page, page_size=page_size, access=access)
    flag_ocr_pending(archive, result)
    if as_json:
        emit_json(result_json(result))
    else:
        click.echo(render_text(result))


@click.group()
def index() -> None:
    """全文索引：由档案库重建。"""


@index.command("rebuild")
@click.option("--no-ocr", is_flag=True, help="不做 OCR（只用已有的派生文本）")
@click.pass_context
def rebuild(ctx: click.Context, no_ocr: bool) -> None:
    """由档案库（AIP 与目录）重建全文索引。"""
    from dangan.search.feed import reindex

    archive = open_archive(ctx)
    total = reindex(archive, ocr=not no_ocr,
                    progress=lambda n, t: click.echo(f"已索引 {n}/{t}") if n % 100 == 0 else None)
    click.echo(f"索引已重建：{total} 件")

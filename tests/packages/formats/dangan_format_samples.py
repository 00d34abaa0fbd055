"""Real sample files for the format and check tests, made on the spot.

Every sample is a genuine file of its kind (reportlab PDFs with Chinese text, Pillow
images with real resolution tags, pypdf-modified PDFs), so the readers are tested on
what producers really write.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from tests.shared_fixtures import OFD_FIXTURES as SHARED_OFD

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

# Assembled from parts so that this file itself does not trip a virus scanner.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
OFD_FIXTURES = SHARED_OFD

CHINESE_PAGES = ["张三企业职工基本养老保险参保登记", "受理告知书：材料齐全，予以受理"]


def chinese_pdf(path: Path, pages: list[str] | None = None) -> Path:
    c = canvas.Canvas(str(path))
    for text in pages or CHINESE_PAGES:
        c.setFont("STSong-Light", 14)
        c.drawString(72, 700, text)
        c.showPage()
    c.save()
    return path


def _rewrite(src: Path, dst: Path, edit) -> Path:
    writer = PdfWriter(clone_from=PdfReader(str(src)))
    edit(writer)
    with open(dst, "wb") as f:
        writer.write(f)
    return dst


def javascript_pdf(path: Path) -> Path:
    """Document-level JavaScript in the catalogue's /Names /JavaScript tree."""
    src = chinese_pdf(path.with_suffix(".src.pdf"))

    def edit(w: PdfWriter) -> None:
        action = w._add_object(DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hi');"),
        }))
        tree = DictionaryObject({
            NameObject("/Names"): ArrayObject([TextStringObject("init"), action]),
        })
        w._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): w._add_object(tree)})

    return _rewrite(src, path, edit)


def open_action_javascript_pdf(path: Path) -> Path:
    """JavaScript only in the catalogue's /OpenAction (no Names tree)."""
    src = chinese_pdf(path.with_suffix(".src.pdf"))

    def edit(w: PdfWriter) -> None:
        action = DictionaryObject({
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('open');"),
        })
        w._root_object[NameObject("/OpenAction")] = w._add_object(action)

    return _rewrite(src, path, edit)


def launch_annotation_pdf(path: Path) -> Path:
    """A link annotation whose action chain (/Next) ends in a Launch action."""
    src = chinese_pdf(path.with_suffix(".src.pdf"))

    def edit(w: PdfWriter) -> None:
        launch = DictionaryObject({
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("calc.exe"),
        })
        uri = DictionaryObject({
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://example.org/"),
            NameObject("/Next"): w._add_object(launch),
        })
        annot = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (0, 0, 100, 100)]),
            NameObject("/A"): w._add_object(uri),
        })
        w.pages[0][NameObject("/Annots")] = ArrayObject([w._add_object(annot)])

    return _rewrite(src, path, edit)


def embedded_file_pdf(path: Path) -> Path:
    src = chinese_pdf(path.with_suffix(".src.pdf"))
    return _rewrite(src, path, lambda w: w.add_attachment("payload.txt", b"hidden data"))


def encrypted_pdf(path: Path, user_password: str = "secret") -> Path:
    src = chinese_pdf(path.with_suffix(".src.pdf"))
    return _rewrite(src, path, lambda w: w.encrypt(user_password, "owner", algorithm="AES-128"))


def truncated_copy(src: Path, dst: Path, keep: float = 0.6) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def _scan_image(size_in: tuple[float, float], dpi: int) -> Image.Image:
    w, h = int(size_in[0] * dpi), int(size_in[1] * dpi)
    im = Image.new("L", (w, h), 255)
    # Some structure so the compressed data is not trivially small.
    for x in range(0, w, 7):
        for y in range(0, h, 97):
            im.putpixel((x, y), 0)
    return im


def scan_image(path: Path, fmt: str, dpi: int, size_in: tuple[float, float] = (2.0, 1.5),
               cm_unit: bool = False) -> Path:
    """A "scanned" image of ``size_in`` inches at ``dpi`` (TIFF optionally in px/cm)."""
    im = _scan_image(size_in, dpi)
    if fmt == "TIFF" and cm_unit:
        im.save(path, "TIFF", resolution=dpi / 2.54, resolution_unit=3)
    elif fmt == "TIFF":
        im.save(path, "TIFF", dpi=(dpi, dpi))
    else:
        im.save(path, fmt, dpi=(dpi, dpi))
    return path


def scanned_pdf(path: Path, dpi: int, pages: int = 1) -> Path:
    """An image-only PDF: each A6-ish page is filled by one image scanned at ``dpi``."""
    size_in = (4.0, 6.0)
    c = canvas.Canvas(str(path), pagesize=(size_in[0] * 72, size_in[1] * 72))
    for _ in range(pages):
        buf = io.BytesIO()
        _scan_image(size_in, dpi).save(buf, "PNG")
        buf.seek(0)
        c.drawImage(ImageReader(buf), 0, 0, width=size_in[0] * 72, height=size_in[1] * 72)
        c.showPage()
    c.save()
    return path


def xml_doc(path: Path) -> Path:
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<表单><姓名>张三</姓名></表单>\n',
                    encoding="utf-8")
    return path


def xxe_xml(path: Path, target: Path) -> Path:
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file://'
        + str(target) + '">]>\n<r>&x;</r>\n', encoding="utf-8")
    return path


def billion_laughs_xml(path: Path) -> Path:
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">' for i in range(1, 10)
    ]
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(ents)
                    + ']>\n<lolz>&lol9;</lolz>\n', encoding="utf-8")
    return path


def ofd_with_member(src: Path, dst: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
        zout.writestr(name, data)
    return dst


def build_context(tmp_path: Path, files: list[tuple[Path, str, dict]], *,
                  case: dict | None = None, **ctx_args):
    """A CheckContext over a real submission directory holding ``files``.

    Each item is (source file, path under files/, case.json overrides for its entry);
    size and digests are measured from the copied bytes, like ingest does.
    """
    import json
    import shutil

    from dangan.packages.checks import CheckContext, FileFacts, Stage
    from dangan.packages.digests import digest_file

    root = tmp_path / "submission"
    (root / "files").mkdir(parents=True, exist_ok=True)
    entries, facts = [], {}
    for number, (src, name, overrides) in enumerate(files, start=1):
        dst = root / "files" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        d = digest_file(dst)
        rel = f"files/{name}"
        facts[rel] = FileFacts(rel_path=rel, abs_path=dst, size=d.size, sha256=d.sha256, sm3=d.sm3)
        entry = {"id": f"f{number}", "path": name, "title": f"材料{number}", "kind": "evidence",
                 "origin": "born_digital", "media_type": "application/pdf", "size": d.size,
                 "sha256": d.sha256, "created_at": "2024-05-01T09:00:00+08:00"}
        entry.update(overrides)
        entries.append(entry)
    if case is None:
        case = {"schema": "dangan/case-submission/1", "case_id": "T-1", "files": entries}
    case_bytes = json.dumps(case, ensure_ascii=False).encode()
    (root / "case.json").write_bytes(case_bytes)
    return CheckContext(stage=ctx_args.pop("stage", Stage.GD), root=root, case_bytes=case_bytes,
                        case=case, case_error=None, signature_bytes=None, files=facts,
                        extra_entries=[], **ctx_args)


def run_item(ctx, code: str):
    """Run every check of the context's stage and return the result of ``code``."""
    from dangan.packages.checks import default_registry, run_checks

    report = run_checks(ctx, ctx.stage, registry=default_registry())
    matches = [r for r in report.results if r.code == code]
    assert matches, f"{code} did not run at stage {ctx.stage}"
    return matches[0]

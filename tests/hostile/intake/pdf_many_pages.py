"""A PDF with 100,000 (empty) pages: once archived after 40 s and 360 MB; refused by the
pdf_max_pages/pdf_max_objects limits after reading its tail."""

from tests.hostile.intake.pdfgen import many_pages

EXPECT = {"exit": 3, "code": "GD-3-4"}


def build(sub):
    sub.replace_first_pdf(many_pages(100_000))

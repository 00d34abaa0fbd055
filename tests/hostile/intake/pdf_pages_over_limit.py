"""A PDF of 6,000 pages: few enough objects, but more pages than pdf_max_pages (5,000)."""

from tests.hostile.intake.pdfgen import many_pages

EXPECT = {"exit": 3, "code": "GD-3-4"}


def build(sub):
    sub.replace_first_pdf(many_pages(6_000))

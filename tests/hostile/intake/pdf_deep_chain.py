"""A PDF whose catalogue starts a chain of 5,000 dictionaries, each nested in the one
before through an indirect reference: deeper than pdf_max_depth (1,000)."""

from tests.hostile.intake.pdfgen import deep_chain

EXPECT = {"exit": 3, "code": "GD-3-4"}


def build(sub):
    sub.replace_first_pdf(deep_chain(5_000))

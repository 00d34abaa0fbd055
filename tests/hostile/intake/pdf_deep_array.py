"""A PDF whose catalogue holds an array nested 100,000 levels deep (recursion bomb)."""

from tests.hostile.intake.pdfgen import deep_array

EXPECT = {"exit": 3, "code": "GD-3-4"}


def build(sub):
    sub.replace_first_pdf(deep_array(100_000))

"""The reported attack: 100,000-deep nesting (archived after 27 s and 540 MB before);
now refused on its declared object count without parsing the objects."""

from tests.hostile.intake.pdfgen import deep_chain

EXPECT = {"exit": 3, "code": "GD-3-4"}


def build(sub):
    sub.replace_first_pdf(deep_chain(100_000))

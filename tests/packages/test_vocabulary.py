"""One vocabulary: every map of codes to labels is the vocabulary's, so they cannot drift."""

from __future__ import annotations

from dangan.archive import filing_config
from dangan.packages import archival_code, case_schema, identity
from dangan.packages import vocabulary as V
from dangan.packages.aip import labels
from dangan.packages.checks.engine import NATURE_NAMES, Nature
from dangan.search import interface, query


def test_the_label_maps_elsewhere_are_the_vocabulary_itself() -> None:
    assert case_schema.OUTCOME_NAMES is V.OUTCOMES is filing_config.OUTCOME_NAMES is labels.OUTCOMES
    assert case_schema.INSURANCE_NAMES is V.INSURANCES is filing_config.INSURANCES
    assert case_schema.STEP_NAMES is V.STEPS is labels.STEPS
    assert case_schema.CLASSIFICATION_NAMES is V.CLASSIFICATIONS is labels.CLASSIFICATIONS
    assert identity.ID_TYPE_NAMES is V.ID_TYPES
    assert archival_code.RETENTION_NAMES is V.RETENTIONS
    assert archival_code.CATEGORY_CODES is V.CATEGORIES
    assert {str(n): name for n, name in NATURE_NAMES.items()} == V.NATURES
    assert set(V.NATURES) == {str(n) for n in Nature}


def test_rejected_reads_the_same_everywhere() -> None:
    assert V.OUTCOMES["rejected"] == "不予"  # the standard's word; 不予办理 still finds it
    assert filing_config.OUTCOMES == tuple(V.OUTCOMES)
    assert query.VALUE_ALIASES["outcome"]["不予办理"] == "rejected"
    assert query.VALUE_ALIASES["outcome"]["不予"] == "rejected"
    assert query.VALUE_ALIASES["security"] == {v: k for k, v in V.CLASSIFICATIONS.items()}


def test_field_names_agree_between_search_and_the_description() -> None:
    assert interface.FACETS["outcome"] == V.FIELDS["outcome"] == "办理结果"
    assert interface.FACETS["security"] == V.FIELDS["security_classification"] == "密级"
    assert interface.SECURITY_LEVELS == tuple(V.CLASSIFICATIONS)


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert V.label(V.CHANNELS, "window") == "窗口"
    assert V.label(V.CHANNELS, "carrier_pigeon") == "carrier_pigeon"
    assert V.label(V.CHANNELS, None) == ""

"""The catalogue side of the field table (``packages/aip/fields.FIELDS``).

The table says which catalogue column and item-JSON key each case field becomes; this
module turns that into ORM values (datetimes, NULL for blanks), the item JSON, the
catalogue/AIP comparison and the columns read back after staging (GD-3-2). Catalogue
values are derived from the description dict, so what the catalogue holds is by
construction what the AIP describes: case → description → catalogue.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from dangan.packages.aip.fields import DOCUMENT_FIELDS, FIELDS, DocumentField, Field, described

from .models import Item, ItemFile
from .timeutil import parse_iso

__all__ = ["CATALOGUED", "READ_BACK", "columns_of_case", "columns_of_description", "compared",
           "document_columns", "document_compared",
           "document_json", "document_read_back_columns", "document_record", "item_json",
           "read_back_columns", "record_values"]

#: Table fields with a catalogue column, and those read back after staging (GD-3-2).
CATALOGUED: tuple[Field, ...] = tuple(f for f in FIELDS if f.column)
READ_BACK: tuple[Field, ...] = tuple(f for f in CATALOGUED if f.read_back)


def _in_description(f: Field | DocumentField, desc: Any) -> Any:
    for key in f.name.split("."):
        desc = desc.get(key) if isinstance(desc, dict) else None
    return desc


def _to_column(f: Field, value: Any, *, strict: bool) -> Any:
    """A description value as the catalogue stores it; lenient: unparseable text is kept."""
    if f.kind == "time" and value is not None:
        try:
            return parse_iso(value)
        except (TypeError, ValueError):
            if strict:
                raise
            return value
    if f.blank_is_none:
        return value or None
    if f.kind == "codes" and isinstance(value, list):
        return list(value)
    return value


def columns_of_case(case: dict[str, Any], filing: dict[str, Any],
                    archival_code: str) -> dict[str, Any]:
    """``Item`` column values of a checked case, by way of its description."""
    desc = described(case, filing, archival_code)
    return {f.column: _to_column(f, _in_description(f, desc), strict=True) for f in CATALOGUED}


def columns_of_description(desc: dict[str, Any]) -> dict[str, Any]:
    """``Item`` column values read from a sealed AIP's record description (a transfer)."""
    return {f.column: _to_column(f, _in_description(f, desc), strict=True) for f in CATALOGUED}


def document_columns(doc: dict[str, Any]) -> dict[str, Any]:
    """``ItemFile`` column values of one ``documents`` entry of a sealed AIP's description."""
    return {f.column: _in_description(f, doc) for f in DOCUMENT_FIELDS}


def _json(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def item_json(item: Item) -> dict[str, Any]:
    """The table fields of ``item`` under their item-JSON keys (dotted keys nest)."""
    out: dict[str, Any] = {}
    for f in CATALOGUED:
        *heads, last = (f.json_key or "").split(".")
        target = out
        for h in heads:
            target = target.setdefault(h, {})
        target[last] = _json(getattr(item, f.column or ""))
    return out


def compared(item: Item, desc: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(column, label, AIP value, catalogue value) of every catalogued table field."""
    return [(f.column or "", f.label,
             _to_column(f, _in_description(f, desc), strict=False), getattr(item, f.column or ""))
            for f in CATALOGUED]


def read_back_columns() -> list[InstrumentedAttribute[Any]]:
    """The ``Item`` columns GD-3-2 reads back from the database."""
    return [getattr(Item, f.column or "") for f in READ_BACK]


def record_values(item: Item) -> dict[str, Any]:
    """What ``read_back_columns`` would read for ``item`` (not yet written)."""
    return {f.column or "": getattr(item, f.column or "") for f in READ_BACK}



_DOC_COMPARED = tuple(f for f in DOCUMENT_FIELDS if f.compared)
_DOC_READ_BACK = tuple(f for f in DOCUMENT_FIELDS if f.read_back)


def document_json(row: ItemFile) -> dict[str, Any]:
    """One ``files`` entry of the item JSON."""
    return {f.json_key: _json(getattr(row, f.column)) for f in DOCUMENT_FIELDS}


def document_compared(row: ItemFile, doc: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(column, label, AIP value, catalogue value) of the compared document fields."""
    return [(f.column, f.label, _in_description(f, doc), getattr(row, f.column))
            for f in _DOC_COMPARED]


def document_read_back_columns() -> list[InstrumentedAttribute[Any]]:
    """The ``ItemFile`` columns GD-3-2 reads back (``path`` first: the key of a row)."""
    return [getattr(ItemFile, f.column) for f in _DOC_READ_BACK]


def document_record(row: ItemFile) -> dict[str, Any]:
    """What ``document_read_back_columns`` would read for ``row`` (not yet written)."""
    return {f.column: getattr(row, f.column) for f in _DOC_READ_BACK}

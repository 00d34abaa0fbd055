"""Archival information package (归档信息包): BagIt bag, package description, archive signature.

See docs/aip.md for the layout, what is signed, and how to verify an AIP offline.
"""

from .build import AIPInput, BuiltAIP, build_aip, export_aip_zip, reseal_with_report
from .description import parse_description, render_description, xsd_errors
from .reader import AIPReader, read_aip
from .validate import AIPValidation, inspect_aip, validate_aip

__all__ = [
    "AIPInput",
    "AIPReader",
    "AIPValidation",
    "BuiltAIP",
    "build_aip",
    "export_aip_zip",
    "inspect_aip",
    "parse_description",
    "read_aip",
    "render_description",
    "reseal_with_report",
    "validate_aip",
    "xsd_errors",
]

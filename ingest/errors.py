"""Errors of the filing workflow. ``UnusableSubmission`` maps to exit code 2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dangan.packages.errors import DanganError

if TYPE_CHECKING:
    from dangan.packages.checks import CheckReport


class IngestError(DanganError):
    """Base of every error raised by ``dangan.ingest``."""

    code = "ingest.error"


class UnusableSubmission(IngestError):
    """Not a case submission, unreadable, or unsafe to open: nothing can be checked."""

    code = "ingest.unusable_submission"


class CaseTooLarge(UnusableSubmission):
    """case.json exceeds the configured bytes, counts or nesting: refused unparsed."""

    code = "ingest.case_too_large"


class CaseTextInvalid(UnusableSubmission):
    """case.json holds text no archive format can carry (control characters, lone surrogates)."""

    code = "ingest.case_invalid_text"


class NameCollision(UnusableSubmission):
    """Two names in the submission that one file system would take for the same file."""

    code = "ingest.name_collision"


class PackageRejected(IngestError):
    """The built AIP or its catalogue rows failed a blocking check inside sealing.

    Sealing raises it to leave the filing window without a trace; the filing service
    catches it and records a rejection with ``report`` (exit code 3), so it never
    reaches a user as an error.
    """

    code = "ingest.package_rejected"

    def __init__(self, report: CheckReport) -> None:
        failed = [r.code for r in report.blocking_failures]
        super().__init__("归档信息包未通过检测，已拒收：" + ("、".join(failed) or "见检测报告"),
                         [{"code": c} for c in failed])
        self.report = report

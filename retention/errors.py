"""Errors of the retention domain: stable codes, Chinese messages a person can act on.

``RetentionRefused`` and its children are refusals by the rules (the CLI exits 3);
``RetentionInputError`` is unusable input (exit 2). A refused call changes nothing.
"""

from __future__ import annotations

from dangan.packages.errors import DanganError


class RetentionError(DanganError):
    code = "retention.error"


class RetentionInputError(RetentionError):
    """Bad input: unknown item, malformed id number, unknown hold kind, bad date."""

    code = "retention.bad_input"


class NotFound(RetentionInputError):
    code = "retention.not_found"


class PeriodUnknown(RetentionError):
    """An item's due date cannot be computed; no date is guessed."""

    code = "retention.period_unknown"


class RetentionRefused(RetentionError):
    code = "retention.refused"


class HoldNotActive(RetentionRefused):
    code = "retention.hold_not_active"


class ItemHeld(RetentionRefused):
    code = "retention.item_held"


class NotDue(RetentionRefused):
    code = "retention.not_due"


class AlreadyProposed(RetentionRefused):
    code = "retention.already_proposed"


class SelfApproval(RetentionRefused):
    code = "retention.self_approval"


class DuplicateOpinion(RetentionRefused):
    code = "retention.duplicate_opinion"


class NotEnoughOpinions(RetentionRefused):
    code = "retention.not_enough_opinions"


class AppraisalClosed(RetentionRefused):
    code = "retention.appraisal_closed"


class NotAppraisable(RetentionRefused):
    """An item no longer in the archive's custody (destroyed, transferred)."""

    code = "retention.not_appraisable"


class NotPermitted(RetentionRefused):
    """The actor is not a known, enabled user holding the role this step needs."""

    code = "retention.not_permitted"


class ApprovalsMissing(RetentionRefused):
    """Destruction without the principal's approval and the filing with the HRSS department."""

    code = "retention.approvals_missing"


class NotApprovedForDestruction(RetentionRefused):
    code = "retention.not_approved"


class AlreadyInBatch(RetentionRefused):
    code = "retention.already_in_batch"


class SupervisorsRefused(RetentionRefused):
    """Fewer than two distinct supervisors (监销人), or one who took part in the decision."""

    code = "retention.supervisors"

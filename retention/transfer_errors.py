"""Refusals of transfer (移交): stable codes, Chinese messages; a refusal changes nothing."""

from __future__ import annotations

from .errors import RetentionInputError, RetentionRefused


class TransferInputError(RetentionInputError):
    code = "transfer.bad_input"


class UnknownSender(RetentionRefused):
    """The package is not signed by the sending archive named with --sender-key/-fingerprint."""

    code = "transfer.unknown_sender"


class PackageTampered(RetentionRefused):
    """A file of the package differs from its signed manifest, or the manifest from its signature."""

    code = "transfer.package_tampered"


class PackageIncomplete(RetentionRefused):
    """A file the manifest lists is missing, or the package holds one it does not list."""

    code = "transfer.package_incomplete"


class ChecksFailed(RetentionRefused):
    """Stage-YJ four-nature checks failed on an item (sending or receiving side)."""

    code = "transfer.checks_failed"


class AlreadyInTransfer(RetentionRefused):
    code = "transfer.already_in_transfer"


class NotTransferable(RetentionRefused):
    """Not an approved transfer appraisal, or an item no longer in this archive's custody."""

    code = "transfer.not_transferable"


class CodeClash(RetentionRefused):
    """The receiving catalogue already holds this archival code or AIP id for other bytes."""

    code = "transfer.code_clash"


class ResentAltered(RetentionRefused):
    """A package with a transfer id received before, but with other contents."""

    code = "transfer.resent_altered"


class ReceiptSignature(RetentionRefused):
    """The receipt is not signed by the receiving archive's key."""

    code = "transfer.receipt_signature"


class ReceiptMismatch(RetentionRefused):
    """The receipt lists other items (or other digests) than were sent."""

    code = "transfer.receipt_mismatch"


class TransferClosed(RetentionRefused):
    code = "transfer.closed"


class TrustConflict(RetentionRefused):
    """A source system's key id is registered here with another key than the sender's."""

    code = "transfer.trust_conflict"

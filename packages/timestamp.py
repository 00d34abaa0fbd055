"""RFC 3161 time-stamp tokens: parse as real TSAs send them, verify strictly.

Why here (``packages/``): the archive checks tokens when it receives them and in
``audit verify``; an inspector checks the token in an evidence package offline. Both
must accept what public TSAs and OpenSSL send — the certificate chain in the order
given rather than in DER SET OF order — without loosening what is verified.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from asn1crypto import tsp
from asn1crypto.core import Void
from cryptography import x509
from rfc3161_client import (
    PKIStatus,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from .errors import PackageError

SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TimestampInvalid(PackageError):
    code = "package.timestamp"


def _der_sorted_certificates(body: bytes) -> bytes:
    """``body`` with SignedData's ``certificates`` SET OF re-ordered as DER requires.

    Why: OpenSSL (``openssl ts -reply -chain``) and many public TSAs emit the signer's
    chain in the order given, not sorted as DER demands of a SET OF, and rfc3161-client's
    strict DER parser refuses such a token ("InvalidSetOrdering"). The certificates are
    outside what the TSA signs, and sorting keeps every element's bytes and the field's
    length, so the signature and every enclosing length stay valid; only the copy handed
    to the strict parser is changed, never the token stored.
    """
    try:
        certs = tsp.TimeStampResp.load(body)["time_stamp_token"]["content"]["certificates"]
        parts = [] if isinstance(certs, Void) else [c.dump() for c in certs]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"无法读取证书集合：{exc}") from exc
    blob = b"".join(parts)
    if len(parts) < 2 or body.count(blob) != 1:
        return body
    return body.replace(blob, b"".join(sorted(parts)))


def decode_response(body: bytes) -> TimeStampResponse:
    """Parse a TimeStampResp leniently (certificate order as real TSAs send it), strictly
    otherwise; raise ``ValueError`` if it is not RFC 3161."""
    try:
        return decode_timestamp_response(body)
    except ValueError as first:
        if "InvalidSetOrdering" not in str(first):
            raise
        return decode_timestamp_response(_der_sorted_certificates(body))


def check_response(resp: TimeStampResponse, data: bytes, roots: list[x509.Certificate],
                   nonce: int | None = None) -> None:
    """Granted, imprint = SHA-256(``data``), the nonce if given; with ``roots`` the CMS
    signature, the chain to them (self-issued ones are roots, others intermediates) and
    the critical EKU timeStamping. Raise ``TimestampInvalid`` naming what fails."""
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampInvalid(f"TSA 拒绝签发时间戳（状态 {resp.status}：{resp.status_string}）")
    imprint = resp.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256_OID or imprint.message != hashlib.sha256(data).digest():
        raise TimestampInvalid("时间戳所盖的摘要与树头的规范字节不符")
    if nonce is not None and resp.tst_info.nonce != nonce:
        raise TimestampInvalid("时间戳响应的随机数（nonce）与请求不符：可能是重放的旧响应")
    if roots:
        builder = VerifierBuilder()
        anchors = [c for c in roots if c.subject == c.issuer] or roots
        for cert in roots:  # self-issued ones anchor the chain; others are intermediates
            builder = (builder.add_root_certificate(cert) if cert in anchors
                       else builder.add_intermediate_certificate(cert))
        try:
            builder.build().verify_message(resp, data)
        except VerificationError as exc:
            raise TimestampInvalid(f"时间戳签名或证书链验证失败：{str(exc)[:300]}") from exc


def verify_token(token: bytes, data: bytes, roots: list[x509.Certificate]) -> datetime:
    """Check a stored token covers ``data`` (and, given roots, its signature); its time."""
    try:
        resp = decode_response(token)
    except ValueError as exc:
        raise TimestampInvalid(f"时间戳令牌无法解析：{exc}") from exc
    check_response(resp, data, roots)
    return resp.tst_info.gen_time.astimezone(UTC)


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle (TSA root, optionally intermediates)."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampInvalid(f"无法读取 TSA 根证书：{exc}") from exc

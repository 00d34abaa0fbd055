"""RFC 3161 time stamps over signed tree heads (外部时间戳锚定).

Why: a tree head signed with the archive's own key does not stop an insider who holds
that key from re-signing a rewritten log. A time-stamping authority (TSA) outside the
archive countersigns the head's canonical bytes with its own clock and key, so a head
cannot be back-dated or replaced without the TSA's cooperation.

Configuration (environment, read here so ``archive/config.py`` need not change):

* ``DANGAN_TSA_URL``      the TSA's HTTP(S) endpoint; unset: no time stamping.
* ``DANGAN_TSA_CERT``     PEM file with the TSA's root (and intermediate) certificates;
                          when set, tokens are verified against it (signature, chain, EKU).
* ``DANGAN_TSA_TIMEOUT``  seconds to wait for the TSA (default 10).
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import tsp
from asn1crypto.core import Void
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from .errors import ArchiveError

TSA_URL_ENV = "DANGAN_TSA_URL"
TSA_CERT_ENV = "DANGAN_TSA_CERT"
TSA_TIMEOUT_ENV = "DANGAN_TSA_TIMEOUT"
SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TimestampError(ArchiveError):
    code = "archive.tsa"


@dataclass(frozen=True)
class TSAConfig:
    url: str
    cert_file: Path | None = None
    timeout: float = 10.0

    def roots(self) -> list[x509.Certificate]:
        if self.cert_file is None:
            return []
        try:
            return x509.load_pem_x509_certificates(self.cert_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise TimestampError(f"无法读取 TSA 根证书 {self.cert_file}：{exc}") from exc


def tsa_config() -> TSAConfig | None:
    """The TSA configured in the environment, or None when time stamping is off."""
    url = os.environ.get(TSA_URL_ENV, "").strip()
    if not url:
        return None
    cert = os.environ.get(TSA_CERT_ENV, "").strip()
    try:
        timeout = float(os.environ.get(TSA_TIMEOUT_ENV, "10"))
    except ValueError as exc:
        raise TimestampError(f"{TSA_TIMEOUT_ENV} 应为秒数") from exc
    return TSAConfig(url=url, cert_file=Path(cert) if cert else None, timeout=timeout)


@dataclass(frozen=True)
class Timestamp:
    token: bytes  # DER TimeStampResp as returned by the TSA
    gen_time: datetime
    serial_number: int


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


def _check(resp: TimeStampResponse, data: bytes, roots: list[x509.Certificate],
           nonce: int | None = None) -> None:
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"TSA 拒绝签发时间戳（状态 {resp.status}：{resp.status_string}）")
    imprint = resp.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256_OID or imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("时间戳所盖的摘要与树头的规范字节不符")
    if nonce is not None and resp.tst_info.nonce != nonce:
        raise TimestampError("时间戳响应的随机数（nonce）与请求不符：可能是重放的旧响应")
    if roots:
        builder = VerifierBuilder()
        anchors = [c for c in roots if c.subject == c.issuer] or roots
        for cert in roots:  # self-issued ones anchor the chain; others are intermediates
            builder = (builder.add_root_certificate(cert) if cert in anchors
                       else builder.add_intermediate_certificate(cert))
        try:
            builder.build().verify_message(resp, data)
        except VerificationError as exc:
            raise TimestampError(f"时间戳签名或证书链验证失败：{str(exc)[:300]}") from exc


def request_timestamp(data: bytes, config: TSAConfig) -> Timestamp:
    """Ask the TSA to time-stamp SHA-256(``data``); check the answer before keeping it."""
    req = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        config.url, data=req.as_bytes(), method="POST",
        headers={"Content-Type": "application/timestamp-query"},
    )
    try:
        with urllib.request.urlopen(http, timeout=config.timeout) as answer:  # noqa: S310
            body = answer.read(1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"无法连接时间戳服务 {config.url}：{exc}") from exc
    try:
        resp = decode_response(body)
    except ValueError as exc:
        raise TimestampError(f"时间戳服务 {config.url} 的响应不是 RFC 3161 格式：{exc}") from exc
    _check(resp, data, config.roots(), req.nonce)
    info = resp.tst_info
    return Timestamp(token=body, gen_time=info.gen_time.astimezone(UTC),
                     serial_number=info.serial_number)


def verify_timestamp(token: bytes, data: bytes, roots: list[x509.Certificate]) -> datetime:
    """Check a stored token covers ``data`` (and, given roots, its signature); return its time."""
    try:
        resp = decode_response(token)
    except ValueError as exc:
        raise TimestampError(f"时间戳令牌无法解析：{exc}") from exc
    _check(resp, data, roots)
    return resp.tst_info.gen_time.astimezone(UTC)

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

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, TimeStampResponse

from dangan.packages.timestamp import TimestampInvalid, check_response, decode_response

from .errors import ArchiveError

__all__ = ["TimestampError", "decode_response", "request_timestamp", "tsa_config",
           "verify_timestamp"]

TSA_URL_ENV = "DANGAN_TSA_URL"
TSA_CERT_ENV = "DANGAN_TSA_CERT"
TSA_TIMEOUT_ENV = "DANGAN_TSA_TIMEOUT"


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


def _check(resp: TimeStampResponse, data: bytes, roots: list[x509.Certificate],
           nonce: int | None = None) -> None:
    try:
        check_response(resp, data, roots, nonce)
    except TimestampInvalid as exc:
        raise TimestampError(exc.message) from exc


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

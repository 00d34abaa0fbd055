"""A real, minimal RFC 3161 time-stamping authority on 127.0.0.1 for the tests.

It parses the request with ``rfc3161_client``, builds the TSTInfo and the CMS SignedData
(RFC 5652, signed attributes with ESS signingCertificateV2) in DER by hand and signs
with ECDSA P-256, under a leaf certificate (critical EKU id-kp-timeStamping) issued by
its own root CA — so clients verify it exactly as they would a public TSA.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from rfc3161_client import _rust

from tests.archive.tsa_server import LoopbackTSA


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _set(*parts: bytes) -> bytes:
    return _tlv(0x31, b"".join(sorted(parts)))


def _int(n: int) -> bytes:
    return _tlv(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))


def _oid(dotted: str) -> bytes:
    nums = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * nums[0] + nums[1]])
    for n in nums[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


def _octets(b: bytes) -> bytes:
    return _tlv(0x04, b)


SHA256 = _seq(_oid("2.16.840.1.101.3.4.2.1"))
ECDSA_SHA256 = _seq(_oid("1.2.840.10045.4.3.2"))
POLICY = "1.3.6.1.4.1.99999.1.1"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class LocalTSA(LoopbackTSA):
    """``with LocalTSA(tmp) as tsa:`` → ``tsa.url``, ``tsa.root_pem_path``; ``tsa.refuse``."""

    def __init__(self, folder: Path) -> None:
        now = datetime.now(UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = (
            x509.CertificateBuilder().subject_name(_name("Dangan Test TSA Root"))
            .issuer_name(_name("Dangan Test TSA Root")).public_key(self.root_key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder().subject_name(_name("Dangan Test TSA"))
            .issuer_name(self.root.subject).public_key(self.key.public_key())
            .serial_number(2).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        self.root_pem_path = folder / "tsa-root.pem"
        self.root_pem_path.write_bytes(self.root.public_bytes(serialization.Encoding.PEM))
        self.serial = 0
        self.requests = 0
        self.refuse = False

    def respond(self, request_der: bytes) -> bytes:
        """A granted TimeStampResp for the request (or status 2 'rejection' if refusing)."""
        self.requests += 1
        if self.refuse:
            return _seq(_seq(_int(2)))
        req = _rust.parse_timestamp_request(request_der)
        self.serial += 1
        imprint = _seq(_seq(_oid(req.message_imprint.hash_algorithm.dotted_string)),
                       _octets(req.message_imprint.message))
        gen = datetime.now(UTC).strftime("%Y%m%d%H%M%SZ").encode()
        tst = _seq(_int(1), _oid(POLICY), imprint, _int(self.serial), _tlv(0x18, gen),
                   *([_int(req.nonce)] if req.nonce is not None else []))
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        ess = _seq(_seq(_seq(_octets(hashlib.sha256(cert_der).digest()))))
        attrs = [
            _seq(_oid("1.2.840.113549.1.9.3"), _set(_oid("1.2.840.113549.1.9.16.1.4"))),
            _seq(_oid("1.2.840.113549.1.9.4"), _set(_octets(hashlib.sha256(tst).digest()))),
            _seq(_oid("1.2.840.113549.1.9.16.2.47"), _set(ess)),
        ]
        signed_attrs = _set(*attrs)
        signature = self.key.sign(signed_attrs, ec.ECDSA(hashes.SHA256()))
        issuer = self.cert.issuer.public_bytes()
        signer = _seq(_int(1), _seq(issuer, _int(self.cert.serial_number)), SHA256,
                      _tlv(0xA0, b"".join(sorted(attrs))),  # [0] IMPLICIT: same content
                      ECDSA_SHA256, _octets(signature))
        signed_data = _seq(
            _int(3), _set(SHA256),
            _seq(_oid("1.2.840.113549.1.9.16.1.4"), _tlv(0xA0, _octets(tst))),
            _tlv(0xA0, cert_der), _set(signer),
        )
        token = _seq(_oid("1.2.840.113549.1.7.2"), _tlv(0xA0, signed_data))
        return _seq(_seq(_int(0)), token)

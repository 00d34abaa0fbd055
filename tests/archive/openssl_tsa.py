"""OpenSSL as a time-stamping authority on 127.0.0.1, as real TSAs answer.

A test root CA issues an intermediate CA (P-384), which issues the TSA's RSA certificate
(critical EKU id-kp-timeStamping). Each HTTP POST is answered by running
``openssl ts -reply`` on the request; with ``chain=True`` the whole chain goes into the
response (``-chain``, in the order TSA, root, intermediate — not DER SET order), which is
what public TSAs send and what a strict DER parser refuses.
"""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.archive.tsa_server import LoopbackTSA

CONFIG = """\
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {folder}
serial = {folder}/serial
crypto_device = builtin
signer_cert = {folder}/tsa.pem
signer_key = {folder}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class OpenSSLTSA(LoopbackTSA):
    """``with OpenSSLTSA(tmp, chain=True) as tsa:`` → ``tsa.url``, ``tsa.root_pem_path``."""

    def __init__(self, folder: Path, *, chain: bool = True) -> None:
        self.folder = folder / "openssl-tsa"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.chain = chain
        now = datetime.now(UTC)
        root_key = ec.generate_private_key(ec.SECP256R1())
        inter_key = ec.generate_private_key(ec.SECP384R1())
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        def ca(cn: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
               issuer_key: ec.EllipticCurvePrivateKey, serial: int) -> x509.Certificate:
            return (
                x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(serial)
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), critical=True)
                .sign(issuer_key, hashes.SHA256())
            )

        self.root = ca("Dangan Test Root CA", root_key, _name("Dangan Test Root CA"), root_key, 1)
        self.intermediate = ca("Dangan Test Intermediate CA (timestamping)", inter_key,
                               self.root.subject, root_key, 2)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name("Dangan OpenSSL TSA"))
            .issuer_name(self.intermediate.subject).public_key(tsa_key.public_key())
            .serial_number(3).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(inter_key, hashes.SHA256())
        )
        f = self.folder
        (f / "tsa.pem").write_bytes(_pem(self.cert))
        (f / "tsa.key").write_bytes(tsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        (f / "chain.pem").write_bytes(_pem(self.cert) + _pem(self.root) + _pem(self.intermediate))
        (f / "serial").write_text("01\n")
        (f / "tsa.cnf").write_text(CONFIG.format(folder=f))
        self.root_pem_path = f / "root.pem"
        self.root_pem_path.write_bytes(_pem(self.root))
        self.intermediate_pem_path = f / "intermediate.pem"
        self.intermediate_pem_path.write_bytes(_pem(self.intermediate))
        self.requests = 0
        self._lock = threading.Lock()

    def respond(self, request_der: bytes) -> bytes:
        """``openssl ts -reply`` for one request (serialised: the serial file is shared)."""
        with self._lock:
            self.requests += 1
            n = self.requests
            query, reply = self.folder / f"q{n}.tsq", self.folder / f"r{n}.tsr"
            query.write_bytes(request_der)
            cmd = ["openssl", "ts", "-reply", "-config", str(self.folder / "tsa.cnf"),
                   "-queryfile", str(query), "-out", str(reply)]
            if self.chain:
                cmd += ["-chain", str(self.folder / "chain.pem")]
            subprocess.run(cmd, check=True, capture_output=True)
            return reply.read_bytes()

    def openssl_verify(self, data: bytes, token: bytes) -> subprocess.CompletedProcess[str]:
        """``openssl ts -verify`` of a stored TimeStampResp over ``data`` with the test root."""
        data_file, token_file = self.folder / "verify.data", self.folder / "verify.tsr"
        data_file.write_bytes(data)
        token_file.write_bytes(token)
        cmd = ["openssl", "ts", "-verify", "-data", str(data_file), "-in", str(token_file),
               "-CAfile", str(self.root_pem_path), "-untrusted", str(self.intermediate_pem_path)]
        return subprocess.run(cmd, capture_output=True, text=True)

"""X.509 for Argosy: the hub's CA, its server certificate, and per-cluster client certificates.

The hub is its own certificate authority. A spoke makes its own key and sends only a CSR, so a
cluster's private key never leaves the cluster; the hub signs it with the cluster id as the
identity, and from then on takes the cluster's identity from the certificate alone.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from argosy.errors import InvalidInput

CLUSTER_OU = "argosy-cluster"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("expected an EC private key")
    return key


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


@dataclass(frozen=True)
class KeyPair:
    key_pem: bytes
    cert_pem: bytes


def new_ca(name: str = "argosy-hub-ca", *, days: int = 3650) -> KeyPair:
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key_pem(key), cert_pem(cert))


def _sign(
    ca: KeyPair,
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName],
    days: float,
) -> bytes:
    ca_cert, ca_key = load_cert(ca.cert_pem), load_key(ca.key_pem)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return cert_pem(builder.sign(ca_key, hashes.SHA256()))


def server_cert(ca: KeyPair, hosts: list[str], *, days: int = 825) -> KeyPair:
    """A serving certificate for the hub, valid for these names and IP addresses."""
    key = new_key()
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "argosy-hub")])
    pem = _sign(
        ca,
        subject=subject,
        public_key=key.public_key(),
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=sans,
        days=days,
    )
    return KeyPair(key_pem(key), pem)


def cluster_csr(key: ec.EllipticCurvePrivateKey, cluster_name: str) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cluster_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def sign_cluster_csr(ca: KeyPair, csr_pem: bytes, *, cluster_id: str, days: float) -> bytes:
    """A client certificate whose identity (CN) is the cluster id, whatever the CSR asked for."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise InvalidInput("the certificate signing request is not a valid PEM CSR") from None
    if not csr.is_signature_valid:
        raise InvalidInput("the certificate signing request's signature is invalid")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise InvalidInput("the certificate signing request must carry an EC P-256 key")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cluster_id),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CLUSTER_OU),
        ]
    )
    return _sign(
        ca,
        subject=subject,
        public_key=public_key,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        sans=[],
        days=days,
    )


def not_after(pem: bytes) -> dt.datetime:
    return load_cert(pem).not_valid_after_utc

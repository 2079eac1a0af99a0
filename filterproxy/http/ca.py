"""The school CA: created once in ``<data_dir>/ca`` in mitmproxy's own format, exported for devices.

mitmproxy reads ``mitmproxy-ca.pem`` (key + certificate) from its ``confdir``, so the proxy simply
points ``confdir`` there. Devices need the certificate only: PEM (ChromeOS, macOS, iPadOS, Linux)
and DER (Windows Group Policy, Intune). The private key never leaves the directory.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from filterproxy.errors import CaError

BASENAME = "mitmproxy"  # mitmproxy looks for <confdir>/mitmproxy-ca.pem
KEY_SIZE = 2048
EXPORT_NAME = "filterproxy-school-ca"


@dataclass(frozen=True, slots=True)
class CaInfo:
    subject: str
    sha256: str  # colon-separated, as device settings show it
    not_after: str
    pem: Path


def ca_file(directory: Path) -> Path:
    return directory / f"{BASENAME}-ca.pem"


def cert_file(directory: Path) -> Path:
    """The CA certificate alone (what devices trust)."""
    return directory / f"{BASENAME}-ca-cert.pem"


def init_ca(directory: Path, school_name: str, *, force: bool = False) -> CaInfo:
    """Create the school CA; refuse to replace an existing one unless ``force``."""
    from mitmproxy.certs import CertStore

    if ca_file(directory).exists() and not force:
        raise CaError(f"{directory}: a CA exists already (devices may trust it); use --force to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob(f"{BASENAME}-*"):
        old.unlink()
    CertStore.create_store(directory, BASENAME, KEY_SIZE, organization=school_name, cn=f"{school_name} web filter CA")
    return read_ca(directory)


def ensure_ca(directory: Path, school_name: str) -> CaInfo:
    """The existing CA, or a new one (mitmproxy would otherwise make an anonymous one)."""
    return read_ca(directory) if ca_file(directory).exists() else init_ca(directory, school_name)


def _certificate(directory: Path) -> x509.Certificate:
    path = cert_file(directory)
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError as exc:
        raise CaError(f"{directory}: no school CA; create it with `filterproxy ca init`") from exc
    except (OSError, ValueError) as exc:
        raise CaError(f"{path}: cannot read the CA certificate: {exc}") from exc


def read_ca(directory: Path) -> CaInfo:
    cert = _certificate(directory)
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return CaInfo(
        subject=cert.subject.rfc4514_string(),
        sha256=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        not_after=cert.not_valid_after_utc.date().isoformat(),
        pem=cert_file(directory),
    )


def export_ca(directory: Path, out: Path) -> list[Path]:
    """Write the certificate (never the key) as PEM (.pem, .crt) and DER (.cer) into ``out``."""
    cert = _certificate(directory)
    out.mkdir(parents=True, exist_ok=True)
    pem = out / f"{EXPORT_NAME}.pem"
    shutil.copyfile(cert_file(directory), pem)
    crt = out / f"{EXPORT_NAME}.crt"
    shutil.copyfile(pem, crt)
    der = out / f"{EXPORT_NAME}.cer"
    der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return [pem, crt, der]

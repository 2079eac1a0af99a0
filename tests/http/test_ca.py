"""The school CA: creation in mitmproxy's format, refusal to overwrite, export without the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from filterproxy.cli import main
from filterproxy.errors import CaError
from filterproxy.http.ca import ca_file, export_ca, init_ca, read_ca


def test_init_and_export(tmp_path: Path) -> None:
    info = init_ca(tmp_path / "ca", "Hill School")
    assert "CN=Hill School web filter CA" in info.subject and len(info.sha256) == 95
    assert ca_file(tmp_path / "ca").read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY")
    with pytest.raises(CaError, match="exists already"):
        init_ca(tmp_path / "ca", "Hill School")
    pem, crt, der = export_ca(tmp_path / "ca", tmp_path / "out")
    cert = x509.load_der_x509_certificate(der.read_bytes())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" not in pem.read_bytes() + crt.read_bytes()
    assert read_ca(tmp_path / "ca").sha256 == info.sha256


def test_missing_ca_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaError, match="filterproxy ca init"):
        read_ca(tmp_path)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("block: {school_name: Oak Academy}\n")
    assert main(["--config", str(config), "ca", "init"]) == 0
    assert main(["--config", str(config), "ca", "init"]) == 1
    assert main(["--config", str(config), "ca", "export", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr()
    assert "Oak Academy web filter CA" in out.out and "exists already" in out.err
    assert (tmp_path / "o" / "filterproxy-school-ca.cer").exists()
    assert main(["--config", str(config), "proxy", "--listen", "nope"]) == 1

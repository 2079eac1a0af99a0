"""The PAC file for WPAD, served beside the proxy."""

from __future__ import annotations

from typing import Any

import httpx

from filterproxy.http.pac import pac_file


def test_pac_file_names_the_proxy_and_has_no_direct_fallback() -> None:
    text = pac_file("proxy.school.example:3128")
    assert 'return "PROXY proxy.school.example:3128";' in text and "; DIRECT" not in text


def test_pac_is_served_for_wpad(proxy_factory: Any) -> None:
    proxy = proxy_factory(pac_listen="127.0.0.1:0", pac_proxy="proxy.school.example:3128")
    pac = proxy.server.pac
    assert pac is not None
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.get(f"http://127.0.0.1:{pac.port}/wpad.dat")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/x-ns-proxy-autoconfig"
        assert "PROXY proxy.school.example:3128" in answer.text
        assert client.get(f"http://127.0.0.1:{pac.port}/other").status_code == 404
        assert client.head(f"http://127.0.0.1:{pac.port}/proxy.pac").content == b""
    proxy.close()

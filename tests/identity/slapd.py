"""A real OpenLDAP server (Debian's slapd) on 127.0.0.1 with a small school directory.

Started from a temporary slapd.conf (mdb database, the memberof overlay so users carry
memberOf like Active Directory), loaded with ldapadd, stopped by its pid. Never the system
instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.support import free_port

SUFFIX = "dc=school,dc=example"
ADMIN = f"cn=admin,{SUFFIX}"
SERVICE = f"cn=filter,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-pass"
STAFF_GROUP = f"cn=staff,ou=groups,{SUFFIX}"
PUPIL_GROUP = f"cn=pupils,ou=groups,{SUFFIX}"
USERS = {"t.jones": ("staff-pass", STAFF_GROUP), "p.smith": ("pupil-pass", PUPIL_GROUP)}

_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw admin-pass
directory {dir}/db
overlay memberof
"""


def _ldif() -> str:
    out = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: School\ndc: school\n"]
    for ou in ("people", "groups", "services"):
        out.append(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n")
    out.append(f"dn: {SERVICE}\nobjectClass: person\ncn: filter\nsn: filter\nuserPassword: {SERVICE_PASSWORD}\n")
    for uid, (password, _group) in USERS.items():
        out.append(f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                   f"sn: {uid}\nuserPassword: {password}\n")
    for group in (STAFF_GROUP, PUPIL_GROUP):
        members = "".join(f"member: uid={u},ou=people,{SUFFIX}\n" for u, (_p, g) in USERS.items() if g == group)
        out.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {group.split(',')[0][3:]}\n{members}")
    return "\n".join(out)


class Slapd:
    def __init__(self, base: Path, tls: tuple[Path, Path, Path] | None = None) -> None:
        """``tls``: (CA, certificate, key) to offer StartTLS and listen on ldaps:// too."""
        self.dir = base
        self.port = free_port()
        self.tls_port = free_port() if tls is not None else None
        (base / "db").mkdir(parents=True, exist_ok=True)
        conf = _CONF.format(dir=base, suffix=SUFFIX, admin=ADMIN)
        if tls is not None:
            conf = (f"TLSCACertificateFile {tls[0]}\nTLSCertificateFile {tls[1]}\nTLSCertificateKeyFile {tls[2]}\n"
                    + conf)
        (base / "slapd.conf").write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self, *, load: bool = True) -> None:
        # -d 0: stay in the foreground (the test owns the process), log nothing
        urls = f"{self.url}/" + (f" ldaps://127.0.0.1:{self.tls_port}/" if self.tls_port else "")
        self.proc = subprocess.Popen(["/usr/sbin/slapd", "-h", urls, "-f", str(self.dir / "slapd.conf"),
                                      "-d", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = subprocess.run(["ldapsearch", "-x", "-H", self.url, "-b", "", "-s", "base", "-LLL"],
                                   capture_output=True, timeout=10)
            if probe.returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("slapd did not start")
        if load:
            subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ADMIN, "-w", "admin-pass"], input=_ldif().encode(),
                           check=True, capture_output=True, timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        self.proc = None

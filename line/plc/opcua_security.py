"""Who may talk to the station over OPC UA, and how the traffic is protected.

Users: the station's own accounts (``db``'s sign-in, with its lock-out and audit log): a PLC signs
in with a user name and password, e.g. an operator account made for it. Anonymous sessions are
refused. Each activated session is reported to ``on_session(username)`` on the connection's own
task, which the server uses to follow the connection (its end = the PLC is gone).

Encryption: ``security`` "sign" or "sign-encrypt" offer only the Basic256Sha256 and
Aes128Sha256RsaOaep policies in that mode, with a self-signed application certificate the station
makes on first start (RSA 2048, one year, renewed when expired) in the certificate folder;
"none" sends everything, passwords included, in clear (a closed machine network only).

Threading rule: ``StationUsers.get_user`` runs on the OPC UA server's event loop (asyncua calls
it synchronously during ActivateSession); the sign-in takes one password hash there.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.errors import PersonFacingError

log = logging.getLogger(__name__)

APP_URI = "urn:can-inspection-station:line:server"
CERT_FILE, KEY_FILE = "server-cert.der", "server-key.pem"


def station_users(station: Any, on_session: Callable[[str], None]) -> Any:
    """An asyncua ``UserManager`` over the station's accounts (asyncua imported on call)."""
    from asyncua.server.user_managers import UserManager

    class _Users(StationUsers, UserManager):
        pass

    return _Users(station, on_session)


class StationUsers:
    """The user manager's logic: a sign-in with the station's accounts."""

    def __init__(self, station: Any, on_session: Callable[[str], None]) -> None:
        self._station, self._on_session = station, on_session

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                 certificate: Any = None) -> Any:
        from asyncua.crypto.permission_rules import User, UserRole

        if not username or password is None:
            return None
        try:
            actor = self._station.auth.sign_in(username, password)
        except PersonFacingError as exc:
            log.warning("OPC UA sign-in refused for %r: %s", username, exc)
            return None
        self._on_session(actor.username)
        return User(role=UserRole.User, name=actor.username)


def policies(security: str) -> list[Any]:
    from asyncua import ua

    kind = ua.SecurityPolicyType
    return {"none": [kind.NoSecurity],
            "sign": [kind.Basic256Sha256_Sign, kind.Aes128Sha256RsaOaep_Sign],
            "sign-encrypt": [kind.Basic256Sha256_SignAndEncrypt,
                             kind.Aes128Sha256RsaOaep_SignAndEncrypt]}[security]


async def ensure_certificate(folder: Path, host: str | None = None) -> tuple[Path, Path]:
    """The server's certificate and key in ``folder``, made (or renewed) when missing or
    expired; the key is readable by its owner only."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    old_umask = os.umask(0o077)
    try:
        await setup_self_signed_certificate(
            key, cert, APP_URI, host or socket.gethostname(),
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
            {"commonName": "Can inspection station", "organizationName": "can-inspection-station"})
    finally:
        os.umask(old_umask)
    key.chmod(0o600)
    cert.chmod(0o644)
    return cert, key

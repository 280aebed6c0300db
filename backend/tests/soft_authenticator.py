"""A software WebAuthn authenticator for the passkey tests: it answers the backend's
options as a browser and a platform authenticator together would (clientDataJSON, an
attestation object of format "none", ES256 assertions), built with `cryptography` and
`cbor2`, so every byte the relying party checks is real. Knobs make the answers a
test needs: another origin or RP ID, no user verification, a counter that goes back."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    counter: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:3000"
    # Counts up by one per assertion; `counter_step=0` keeps it at zero (as synced
    # passkeys do), and a test may set a credential's counter back.
    counter_step: int = 1
    backup_eligible: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def _flags(self, uv: bool, extra: int = 0) -> int:
        flags = UP | extra | (UV if uv else 0)
        if self.backup_eligible:
            flags |= BE | BS
        return flags

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None, uv: bool = True) -> dict[str, Any]:
        """navigator.credentials.create(): the PublicKeyCredential's JSON (toJSON())."""
        rp = rp_id or options["rp"]["id"]
        cred = Credential(id=os.urandom(32), key=ec.generate_private_key(ec.SECP256R1()), rp_id=rp, user_handle=unb64url(options["user"]["id"]))
        attested = bytes(16) + struct.pack(">H", len(cred.id)) + cred.id + cred.cose_public_key()
        auth_data = hashlib.sha256(rp.encode()).digest() + bytes([self._flags(uv, AT)]) + struct.pack(">I", 0) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(cred)
        return {
            "id": b64url(cred.id),
            "rawId": b64url(cred.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        credential: Credential | None = None,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
        user_handle: bytes | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get() with a discoverable credential (the newest, or
        `credential`): the assertion's JSON."""
        cred = credential or self.credentials[-1]
        cred.counter += self.counter_step
        rp = rp_id or options.get("rpId") or cred.rp_id
        auth_data = hashlib.sha256(rp.encode()).digest() + bytes([self._flags(uv)]) + struct.pack(">I", cred.counter)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(cred.id),
            "rawId": b64url(cred.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(user_handle if user_handle is not None else cred.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

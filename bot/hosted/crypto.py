"""Secrets at rest: Fernet tokens (AES-128-CBC + HMAC-SHA256) from PAASTIS_SECRET_KEY.

The variable holds one or more keys, comma-separated: the first encrypts, any decrypts
(MultiFernet), so a key is rotated by putting the new one first, running
`paastis secrets rotate`, then dropping the old one. Fernet has no associated data, so
each sealed value carries the team it belongs to and `open` refuses another team's: a
ciphertext copied from one workspace's row to another's does not decrypt there.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import PaastisError

MAKE_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class SecretKeyError(PaastisError):
    """PAASTIS_SECRET_KEY is missing or not a Fernet key; the message says how to make one."""


class SealBroken(Exception):
    """A sealed value that no key opens, or that belongs to another team."""


class Sealer:
    def __init__(self, keys: str | None) -> None:
        names = [k.strip() for k in (keys or "").split(",") if k.strip()]
        if not names:
            raise SecretKeyError(
                "PAASTIS_SECRET_KEY is not set: the hosted edition encrypts Slack tokens and provider "
                f"credentials with it. Make one with {MAKE_KEY} and keep it out of the database's backups"
            )
        fernets = []
        for index, key in enumerate(names, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                raise SecretKeyError(
                    f"PAASTIS_SECRET_KEY: key {index} of {len(names)} is not a Fernet key "
                    f"(32 url-safe base64-encoded bytes); make one with {MAKE_KEY}"
                ) from None
        self._fernet = MultiFernet(fernets)

    def seal(self, team_id: str, value: object) -> str:
        """`value` (anything JSON can hold) encrypted with the first key, bound to `team_id`."""
        plain = json.dumps({"team": team_id, "value": value}, separators=(",", ":"))
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, team_id: str, sealed: str) -> object:
        try:
            doc = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise SealBroken("no key of PAASTIS_SECRET_KEY opens this value") from None
        if not isinstance(doc, dict) or doc.get("team") != team_id:
            raise SealBroken(f"this value does not belong to team {team_id}")
        return doc["value"]

    def rotate(self, sealed: str) -> str:
        """The same value, encrypted again with the first key."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SealBroken("no key of PAASTIS_SECRET_KEY opens this value") from None

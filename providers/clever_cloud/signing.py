"""How Paastis signs Clever Cloud API requests: OAuth 1 in the Authorization header.

Secrets: the credentials are kept out of `repr`. requests-oauthlib logs the signed
`Authorization` header at DEBUG (with PLAINTEXT that header *is* both secrets), so this
module raises the `oauthlib` and `requests_oauthlib` loggers to INFO.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA512, SIGNATURE_PLAINTEXT
from oauthlib.oauth1 import Client as OAuthClient
from requests_oauthlib import OAuth1

for _noisy in ("oauthlib", "requests_oauthlib"):
    logging.getLogger(_noisy).setLevel(logging.INFO)

# PLAINTEXT first: the default. clever-client.js (clever-tools), CleverCloud's Go client
# ("use PLAINTEXT signature instead of HMAC-SHA512") and the Terraform provider ("use
# PLAINTEXT as oauth signature", 2026-02) all sign so; no public client sends HMAC without
# oauth_version, so the API may refuse it. Over HTTPS only, the signature is both secrets.
SIGNATURE_METHODS = (SIGNATURE_PLAINTEXT, SIGNATURE_HMAC_SHA512, SIGNATURE_HMAC_SHA1)
DEFAULT_SIGNATURE = SIGNATURE_PLAINTEXT


@dataclass(frozen=True)
class Credentials:
    """The four OAuth 1 credentials: the consumer (the OAuth app) and the user's token."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    token: str = field(repr=False)
    secret: str = field(repr=False)


def oauth1(
    credentials: Credentials, signature_method: str, *, client_class: type[OAuthClient] = OAuthClient, **fixed: str
) -> OAuth1:
    """A requests auth signing every request with OAuth 1 in the Authorization header, with
    `oauth_version="1.0"` (as Clever Cloud documents its header and its clients send it).

    `client_class` and `fixed` (`nonce`, `timestamp`, `realm`) are for RFC 5849 test vectors
    and for showing what the API refuses; leave them out otherwise.
    """
    if signature_method not in SIGNATURE_METHODS:
        raise ValueError(f"unsupported OAuth 1 signature method {signature_method!r}")
    return OAuth1(
        credentials.consumer_key,
        client_secret=credentials.consumer_secret,
        resource_owner_key=credentials.token,
        resource_owner_secret=credentials.secret,
        signature_method=signature_method,
        signature_type="AUTH_HEADER",
        client_class=client_class,
        **fixed,
    )

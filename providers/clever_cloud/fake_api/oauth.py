"""How the fake Clever Cloud API checks OAuth 1 signatures (RFC 5849 §3.4).

Accepted, as the real API is known to accept (PROVIDERS.md §2.2):

- PLAINTEXT, with or without `oauth_signature_method` and `oauth_version`, with the secrets
  percent-encoded (RFC 5849 §3.4.4) or raw: what clever-client.js, CleverCloud's Go client
  and its Terraform provider send;
- HMAC-SHA1 and HMAC-SHA512 with `oauth_version="1.0"`, over the standard base string (query
  and oauth parameters), or over the oauth parameters only, as the Go client's older
  releases signed.

Refused, as the real API may refuse it: HMAC without `oauth_version`, which no public
client sends.

Departure: timestamps and nonces are not checked (no replay window), since nobody knows
how strict the real API is and the fake clock may be far from the wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from oauthlib.oauth1.rfc5849 import signature as rfc5849

from providers.clever_cloud.signing import Credentials

_HMAC = {
    "HMAC-SHA1": rfc5849.sign_hmac_sha1_with_client,
    "HMAC-SHA512": rfc5849.sign_hmac_sha512_with_client,
}


def signed_with(environ: Mapping[str, Any]) -> str:
    """How a request says it is signed: `PLAINTEXT 1.0`, `HMAC-SHA512 -` (no version)…"""
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    try:
        oauth = dict(rfc5849.collect_parameters(headers={"Authorization": header}))
    except ValueError:
        return ""
    if not oauth:
        return ""
    return f"{oauth.get('oauth_signature_method', 'PLAINTEXT')} {oauth.get('oauth_version', '-')}"


def refusal(environ: Mapping[str, Any], credentials: Credentials) -> str | None:
    """None when the request is signed with `credentials`, else why it is refused."""
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if not header.lower().startswith("oauth "):
        return "missing OAuth Authorization header"
    try:
        params = rfc5849.collect_parameters(
            uri_query=environ.get("QUERY_STRING", ""), headers={"Authorization": header}, exclude_oauth_signature=False
        )
    except ValueError:
        return "malformed OAuth Authorization header"
    oauth = dict(p for p in params if p[0].startswith("oauth_"))
    if oauth.get("oauth_consumer_key") != credentials.consumer_key:
        return "unknown OAuth consumer"
    if oauth.get("oauth_token") != credentials.token:
        return "unknown or expired OAuth token"
    method = oauth.get("oauth_signature_method", "PLAINTEXT")
    given = oauth.get("oauth_signature", "")
    keys = SimpleNamespace(client_secret=credentials.consumer_secret, resource_owner_secret=credentials.secret)
    if method == "PLAINTEXT":
        expected = {
            rfc5849.sign_plaintext_with_client(None, keys),
            f"{credentials.consumer_secret}&{credentials.secret}",
        }
    elif method in _HMAC:
        if oauth.get("oauth_version") != "1.0":
            return f"{method} without oauth_version 1.0"
        uri = rfc5849.base_string_uri(_uri(environ))
        signed = [p for p in params if p[0] != "oauth_signature"]
        variants = (signed, [p for p in signed if p[0].startswith("oauth_")])
        expected = {
            _HMAC[method](
                rfc5849.signature_base_string(str(environ["REQUEST_METHOD"]), uri, rfc5849.normalize_parameters(v)),
                keys,
            )
            for v in variants
        }
    else:
        return f"unsupported OAuth signature method {method}"
    if not any(rfc5849.safe_string_equals(given, e) for e in expected):
        return "invalid OAuth signature"
    return None


def _uri(environ: Mapping[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    path = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}" or "/"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"

"""A Python agent runtime's kill-switch check, wired as docs/kill-switch.md says: the OpenFeature
SDK with the OFREP provider, default value False, a runtime token, and an `after` hook that accepts
an answer only with a genuine, fresh status document (Ed25519 JWS, checked against Firebreak's JWKS)
for the agent asked about that agrees with the value. Any failure makes the SDK return the default,
so the runtime stops.

Input (argv[1], JSON): base_url, token, jwks, evaluations [{flag, context}]. Output (stdout, JSON):
one {value, error_code, error_message, metadata} per evaluation.
"""

import base64
import json
import sys
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import GeneralError
from openfeature.hook import Hook

STATUS_TYPE = "firebreak-status+jwt"


def b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verified_claims(jws: str, jwks: dict) -> dict:
    """The claims of a compact JWS signed with EdDSA by a key of the set, not expired."""
    try:
        header_b64, payload_b64, sig_b64 = jws.split(".")
        header = json.loads(b64url(header_b64))
    except ValueError as err:
        raise GeneralError(f"status document is not a compact JWS: {err}") from err
    if header.get("alg") != "EdDSA" or header.get("typ") != STATUS_TYPE:
        raise GeneralError(f"status document has alg {header.get('alg')!r}, typ {header.get('typ')!r}")
    key = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), None)
    if key is None or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
        raise GeneralError("status document is signed with an unknown key")
    try:
        Ed25519PublicKey.from_public_bytes(b64url(key["x"])).verify(
            b64url(sig_b64), f"{header_b64}.{payload_b64}".encode()
        )
    except InvalidSignature as err:
        raise GeneralError("status document signature is invalid") from err
    claims = json.loads(b64url(payload_b64))
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        raise GeneralError("status document has expired")
    return claims


class StatusDocumentHook(Hook):
    def __init__(self, jwks: dict):
        self.jwks = jwks

    def after(self, hook_context, details, hints):
        jws = (details.flag_metadata or {}).get("status_jws")
        if not isinstance(jws, str):
            raise GeneralError("answer carries no status document")
        claims = verified_claims(jws, self.jwks)
        if claims.get("agent_id") != hook_context.evaluation_context.targeting_key:
            raise GeneralError("status document is for another agent")
        if details.value is True and claims.get("status") != "enabled":
            raise GeneralError("value contradicts the status document")


def main() -> None:
    req = json.loads(sys.argv[1])
    token = req["token"]
    api.set_provider(
        OFREPProvider(req["base_url"], headers_factory=lambda: {"Authorization": f"Bearer {token}"}, timeout=3.0)
    )
    client = api.get_client()
    client.add_hooks([StatusDocumentHook(req["jwks"])])
    out = []
    for e in req["evaluations"]:
        ctx = dict(e["context"])
        key = ctx.pop("targetingKey", None)
        d = client.get_boolean_details(e["flag"], False, EvaluationContext(targeting_key=key, attributes=ctx))
        out.append(
            {
                "value": d.value,
                "error_code": d.error_code.value if d.error_code else None,
                "error_message": d.error_message,
                "metadata": dict(d.flag_metadata or {}),
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

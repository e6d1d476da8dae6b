"""A Python agent runtime's kill-switch check, wired as docs/kill-switch.md says: the OpenFeature
SDK with the OFREP provider, default value False, a runtime token, and an `after` hook that accepts
an answer only with a genuine, fresh status document (Ed25519 JWS, checked against Firebreak's JWKS)
for the agent asked about, no older than one already seen, that agrees with the value
(examples/agents/python/firebreak_kill_switch.py). Any failure makes the SDK return the default,
so the runtime stops.

Input (argv[1], JSON): base_url, token, jwks, evaluations [{flag, context}]. Output (stdout, JSON):
one {value, error_code, error_message, metadata} per evaluation.
"""

import json
import os
import sys

from openfeature.evaluation_context import EvaluationContext

# The hook and its verification are the Python example agent's (examples/agents/python): the test
# runs the code a runtime would ship, not a copy of it.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "agents", "python"))
from firebreak_kill_switch import ofrep_client  # noqa: E402


def main() -> None:
    req = json.loads(sys.argv[1])
    client = ofrep_client(req["base_url"], req["token"], req["jwks"])
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

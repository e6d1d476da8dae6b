"""Firebreak's kill switch for a Python agent runtime: the OpenFeature SDK with the OFREP provider,
default value False (fail closed), a runtime token, and an `after` hook that accepts an answer only
with a genuine, fresh status document (Ed25519 JWS in the metadata's `status_jws`, checked against
Firebreak's JWKS) for the agent asked about, no older than one already seen, agreeing with the value.
Any failure makes the SDK return the default, so the agent stops (docs/kill-switch.md).

`KillSwitch` keeps answers between steps and re-evaluates them:
- "events" mode: when the OFREP event stream (announced in the bulk evaluation's `eventStreams`)
  sends `refetchEvaluation`, on every step while the stream is down, and at least every 30 s;
- "polling" mode: when an answer is older than the poll interval (0: before every step).
"""

import base64
import json
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import GeneralError
from openfeature.hook import Hook

STATUS_TYPE = "firebreak-status+jwt"
AGENT_ENABLED = "firebreak.agent.enabled"
TOOL_ALLOWED = "firebreak.tool.allowed"
MAX_AGE_S = 30.0
STREAM_RETRY_S = 1.0


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
    """No genuine, fresh, matching document: the hook raises, and the SDK returns the default."""

    def __init__(self, jwks: dict):
        self.jwks = jwks
        self.highest = 0

    def after(self, hook_context, details, hints):
        jws = (details.flag_metadata or {}).get("status_jws")
        if not isinstance(jws, str):
            raise GeneralError("answer carries no status document")
        claims = verified_claims(jws, self.jwks)
        ctx = hook_context.evaluation_context
        if claims.get("agent_id") != ctx.targeting_key:
            raise GeneralError("status document is for another agent")
        version = claims.get("version")
        if not isinstance(version, int) or version < self.highest:
            raise GeneralError(f"status document version {version!r} is older than {self.highest}")
        self.highest = version
        blocked = claims.get("blocked_tools") or []
        tool_blocked = hook_context.flag_key == TOOL_ALLOWED and (ctx.attributes or {}).get("tool") in blocked
        if details.value is True and (claims.get("status") != "enabled" or tool_blocked):
            raise GeneralError("value contradicts the status document")


def fetch_jwks(base_url: str) -> dict:
    import httpx  # here, not above: a runtime that passes its JWKS in needs only the OpenFeature packages

    return httpx.get(f"{base_url.rstrip('/')}/.well-known/jwks.json", timeout=5.0).raise_for_status().json()


def ofrep_client(base_url: str, token: str, jwks: dict, domain: Optional[str] = None):
    """An OpenFeature client on Firebreak's OFREP endpoints, with the status-document hook."""
    provider = OFREPProvider(base_url, headers_factory=lambda: {"Authorization": f"Bearer {token}"}, timeout=3.0)
    if domain:
        api.set_provider(provider, domain)
    else:
        api.set_provider(provider)
    client = api.get_client(domain)
    client.add_hooks([StatusDocumentHook(jwks)])
    return client


@dataclass
class Answer:
    allowed: bool
    version: Optional[int]
    incident: Optional[str]
    error: Optional[str]
    at: float = 0.0
    generation: int = 0


class KillSwitch:
    def __init__(
        self,
        base_url: str,
        token: str,
        agent_id: str,
        mode: str,
        poll_interval_s: float,
        on_event: Callable[[dict], None],
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.agent_id = agent_id
        self.mode = mode
        self.poll_interval_s = poll_interval_s
        self.on_event = on_event
        self.flags = ofrep_client(self.base_url, token, fetch_jwks(self.base_url), f"firebreak-{agent_id}")
        self.lock = threading.Lock()
        self.generation = 0
        self.stream_up = False
        self.agent_answer: Optional[Answer] = None
        self.tool_answers: dict[str, Answer] = {}
        self.closed = threading.Event()

    def agent(self) -> Answer:
        if not self._fresh(self.agent_answer):
            self.agent_answer = self._evaluate(AGENT_ENABLED, {})
        return self.agent_answer

    def tool(self, tool: str) -> Answer:
        agent = self.agent()
        if not agent.allowed:
            return agent
        held = self.tool_answers.get(tool)
        if self._fresh(held):
            return held
        answer = self._evaluate(TOOL_ALLOWED, {"tool": tool})
        self.tool_answers[tool] = answer
        return answer

    def invalidate(self) -> None:
        with self.lock:
            self.generation += 1

    def listen(self, on_change: Callable[[], None]) -> None:
        """Follows the event stream in a thread (events mode); `on_change` runs on each notification."""
        if self.mode == "events":
            threading.Thread(target=self._follow, args=(on_change,), daemon=True).start()

    def close(self) -> None:
        self.closed.set()

    def _fresh(self, a: Optional[Answer]) -> bool:
        if a is None:
            return False
        age = time.monotonic() - a.at
        if self.mode == "polling":
            return age < self.poll_interval_s
        return self.stream_up and a.generation == self.generation and age < MAX_AGE_S

    def _evaluate(self, flag: str, attributes: dict) -> Answer:
        generation = self.generation
        d = self.flags.get_boolean_details(
            flag, False, EvaluationContext(targeting_key=self.agent_id, attributes=attributes)
        )
        meta = dict(d.flag_metadata or {})
        version = meta.get("status_version")
        incident = meta.get("incident_id")
        return Answer(
            allowed=d.value is True and d.error_code is None,
            version=version if isinstance(version, int) else None,
            incident=incident if isinstance(incident, str) else None,
            error=None if d.error_code is None else f"{d.error_code.value}: {d.error_message or ''}",
            at=time.monotonic(),
            generation=generation,
        )

    def _stream_url(self, http) -> str:
        res = http.post(
            f"{self.base_url}/ofrep/v1/evaluate/flags",
            json={"context": {"targetingKey": self.agent_id}},
        ).raise_for_status()
        streams = res.json().get("eventStreams") or []
        sse = next((s.get("endpoint") or {} for s in streams if s.get("type") == "sse"), {})
        uri = sse.get("url") or sse.get("requestUri")
        if not uri:
            raise RuntimeError("the bulk evaluation announces no event stream")
        return uri if uri.startswith("http") else f"{self.base_url}{uri}"

    def _follow(self, on_change: Callable[[], None]) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(headers=headers, timeout=httpx.Timeout(5.0, read=None)) as http:
            while not self.closed.is_set():
                try:
                    with http.stream("GET", self._stream_url(http), headers={"Accept": "text/event-stream"}) as res:
                        res.raise_for_status()
                        data: list[str] = []
                        for line in res.iter_lines():
                            if line.startswith("data:"):
                                data.append(line[5:].strip())
                            elif line == "" and data:
                                self._on_message(json.loads("\n".join(data)), on_change)
                                data = []
                    raise RuntimeError("event stream closed")
                except Exception as err:  # any failure: evaluate every step until reconnected
                    if self.closed.is_set():
                        return
                    if self.stream_up:
                        self.stream_up = False
                        self.invalidate()
                        self.on_event({"event": "stream", "state": "lost", "error": str(err)})
                    time.sleep(STREAM_RETRY_S)

    def _on_message(self, msg: dict, on_change: Callable[[], None]) -> None:
        if msg.get("type") == "connected":
            self.stream_up = True
            self.invalidate()
            self.on_event({"event": "stream", "state": "connected"})
        elif msg.get("type") == "refetchEvaluation":
            self.invalidate()
            self.on_event({"event": "notified", "etag": msg.get("etag")})
            on_change()

"""An example Python agent runtime that obeys Firebreak's kill switch: a loop that, before each
step, asks OpenFeature whether the agent is enabled and whether the step's tool is allowed
(firebreak_kill_switch.py, default False), then calls that tool on an MCP server through the MCP
client SDK (directly, through an MCP gateway, or through a policy-enforcing proxy: whatever MCP_URL
points at). One JSON line per event on stdout. When disabled, or when the MCP endpoint refuses a call
(a gateway's 401/403, a policy proxy's refusal), it stops: exits (ON_DISABLE=exit, the default) or
idles until enabled again (ON_DISABLE=idle). GenAI-convention spans go to OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set. Settings are environment variables: examples/agents/README.md.
"""

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from firebreak_kill_switch import Answer, KillSwitch

AGENT_ID = os.environ.get("AGENT_ID", "?")


def say(event: dict) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    sys.stdout.write(json.dumps({"t": now, "agent": AGENT_ID, **event}) + "\n")
    sys.stdout.flush()


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is required (see examples/agents/README.md)")
    return value


def start_telemetry(agent_name: str):
    """A tracer exporting over OTLP/HTTP protobuf when OTEL_EXPORTER_OTLP_ENDPOINT is set, else no-op."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return trace.get_tracer("firebreak-example-agent"), lambda: None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", agent_name)})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=500))
    return provider.get_tracer("firebreak-example-agent"), provider.shutdown


def sample_arguments(schema: dict, step: int) -> dict:
    """Arguments for a tool from its input schema: each required property gets a plain sample value."""
    props = schema.get("properties") or {}
    args = {}
    for name in schema.get("required") or []:
        kind = (props.get(name) or {}).get("type")
        args[name] = step if kind in ("number", "integer") else True if kind == "boolean" else f"step {step}"
    return args


class Unchecked:
    """KILL_SWITCH_MODE=none, for tests only: a compromised runtime that skips its own check and
    calls every tool, so that only an enforcement point outside it (an OPA-checking proxy, an MCP
    gateway) can stop it."""

    allowed = Answer(allowed=True, version=None, incident=None, error=None)

    def agent(self) -> Answer:
        return self.allowed

    def tool(self, _tool: str) -> Answer:
        return self.allowed

    def listen(self, _on_change) -> None:
        pass

    def close(self) -> None:
        pass


# The HTTP statuses a gateway refuses a credential with, and a policy proxy's JSON-RPC error code.
REFUSED_HTTP = (401, 403)
REFUSED_JSONRPC = -32001


def refusal(err: BaseException) -> str | None:
    """Why the MCP endpoint refused the call, when it did: the agent's credential was refused (HTTP
    401/403, e.g. ContextForge with the agent's user deactivated) or a policy refused the call
    (JSON-RPC error -32001, examples/gateways/opa-mcp-proxy). Other failures are not refusals. The
    MCP client raises an HTTP error out of its transport's task group, so look inside groups."""
    if isinstance(err, BaseExceptionGroup):
        return next((r for e in err.exceptions if (r := refusal(e)) is not None), None)
    if isinstance(err, httpx.HTTPStatusError) and err.response.status_code in REFUSED_HTTP:
        return f"HTTP {err.response.status_code}: {err}"
    if isinstance(err, McpError) and err.error.code == REFUSED_JSONRPC:
        return f"MCP error {err.error.code}: {err.error.message}"  # as the TypeScript SDK words it
    return None


def fields(a: Answer) -> dict:
    return {"version": a.version, "incident": a.incident, **({"error": a.error} if a.error else {})}


async def run() -> None:
    firebreak_url = need("FIREBREAK_URL")
    agent_name = os.environ.get("AGENT_NAME", AGENT_ID)
    mode = os.environ.get("KILL_SWITCH_MODE", "events")
    on_disable = os.environ.get("ON_DISABLE", "exit")
    if mode not in ("events", "polling", "none"):
        raise SystemExit(f"KILL_SWITCH_MODE must be events, polling or none, not {mode}")
    if on_disable not in ("exit", "idle"):
        raise SystemExit(f"ON_DISABLE must be exit or idle, not {on_disable}")
    poll_s = float(os.environ.get("POLL_INTERVAL_MS", "1000")) / 1000
    step_s = float(os.environ.get("STEP_INTERVAL_MS", "250")) / 1000
    max_steps = int(os.environ.get("MAX_STEPS", "0"))
    wanted = [t.strip() for t in os.environ["AGENT_TOOLS"].split(",")] if os.environ.get("AGENT_TOOLS") else None
    # X-Agent-Id names the caller to the MCP server (and gateways that log it); a gateway credential
    # goes in Authorization.
    mcp_headers = {"X-Agent-Id": AGENT_ID}
    if os.environ.get("MCP_AUTHORIZATION"):
        mcp_headers["Authorization"] = os.environ["MCP_AUTHORIZATION"]

    tracer, shutdown_telemetry = start_telemetry(agent_name)
    conversation_id = str(uuid.uuid4())
    loop = asyncio.get_running_loop()
    gate = (
        Unchecked()
        if mode == "none"
        else KillSwitch(firebreak_url, need("FIREBREAK_RUNTIME_TOKEN"), AGENT_ID, mode, poll_s, say)
    )
    gate_lock = asyncio.Lock()
    wake = asyncio.Event()
    state: dict = {"stopped": None}

    async def check(fn, *args) -> Answer:
        async with gate_lock:
            return await asyncio.to_thread(fn, *args)

    def stop(a: Answer, reason: str | None = None) -> None:
        if state["stopped"] is None:
            state["stopped"] = a
            say({"event": "stopped", "reason": reason or ("fail-closed" if a.error else "disabled"), **fields(a)})
        wake.set()

    def refused(why: str) -> None:
        # Refused from outside: stop as on a disable (the agent cannot tell which it was).
        if state["call"] is not None:
            say({**state["call"], "ok": False, "error": why, "refused": True})
        stop(Answer(allowed=False, version=None, incident=None, error=why), "refused")

    async def on_notification() -> None:
        # Acted on at once, not at the next step: the agent re-reads its flag now (and an idle
        # agent wakes to see whether it was enabled again).
        a = await check(gate.agent)
        if a.allowed:
            wake.set()
        else:
            stop(a)

    gate.listen(lambda: loop.call_soon_threadsafe(lambda: loop.create_task(on_notification())))

    async def pause(seconds: float) -> None:
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def idle_until_enabled() -> None:
        # Wait for a notification (events) or the next poll, and go on once enabled again.
        while True:
            await pause(30.0 if mode == "events" else max(poll_s, 0.1))
            again = await check(gate.agent)
            if again.allowed:
                state["stopped"] = None
                say({"event": "resumed", **fields(again)})
                return

    state["step"] = 0
    state["ready"] = False
    state["call"] = None

    async def session_loop() -> None:
        """Steps over one MCP session, until max_steps or a stop with ON_DISABLE=exit."""
        async with streamablehttp_client(need("MCP_URL"), headers=mcp_headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await steps(session)

    async def steps(session: ClientSession) -> None:
        listed = {t.name: t for t in (await session.list_tools()).tools}
        names = wanted or list(listed)
        missing = [n for n in names if n not in listed]
        if missing or not names:
            raise SystemExit(f"the MCP server lacks tools {missing} (it has {', '.join(listed)})")
        tools = [listed[n] for n in names]
        if not state["ready"]:
            state["ready"] = True
            say(
                {
                    "event": "ready",
                    "mode": mode,
                    "mcp_url": os.environ["MCP_URL"],
                    "tools": names,
                    "conversation_id": conversation_id,
                }
            )
        while max_steps == 0 or state["step"] < max_steps:
            if state["stopped"] is not None:
                if on_disable == "exit":
                    break
                await idle_until_enabled()
            state["step"] += 1
            step = state["step"]
            tool = tools[(step - 1) % len(tools)]
            attrs = {
                "gen_ai.agent.id": AGENT_ID,
                "gen_ai.agent.name": agent_name,
                "gen_ai.conversation.id": conversation_id,
            }
            with tracer.start_as_current_span(
                f"invoke_agent {agent_name}", attributes={"gen_ai.operation.name": "invoke_agent", **attrs}
            ) as span:
                answer = await check(gate.tool, tool.name)
                span.set_attribute("firebreak.kill_switch.allowed", answer.allowed)
                if not answer.allowed:
                    agent = await check(gate.agent)
                    if not agent.allowed:
                        stop(agent)
                    else:
                        say({"event": "tool_blocked", "step": step, "tool": tool.name, **fields(answer)})
                else:
                    call_id = str(uuid.uuid4())
                    with tracer.start_as_current_span(
                        f"execute_tool {tool.name}",
                        attributes={
                            "gen_ai.operation.name": "execute_tool",
                            **attrs,
                            "gen_ai.tool.name": tool.name,
                            "gen_ai.tool.call.id": call_id,
                            "gen_ai.tool.type": "extension",
                        },
                    ) as tool_span:
                        t0 = time.monotonic()
                        base = {"event": "step", "step": step, "tool": tool.name, "call_id": call_id}
                        state["call"] = base
                        try:
                            # The call id travels with the call, so a gateway's record matches this span.
                            r = await session.call_tool(
                                tool.name,
                                sample_arguments(tool.inputSchema, step),
                                meta={"gen_ai.tool.call.id": call_id},
                            )
                            ok = not r.isError
                            if not ok:
                                tool_span.set_status(Status(StatusCode.ERROR, "tool returned an error"))
                            say({**base, "ok": ok, "ms": round((time.monotonic() - t0) * 1000)})
                        except Exception as err:
                            tool_span.set_status(Status(StatusCode.ERROR, str(err)))
                            why = refusal(err)
                            if why is not None:
                                refused(why)
                            else:
                                say({**base, "ok": False, "error": str(err)})
                        # Not in a finally: a call cancelled by an HTTP refusal stays set for run().
                        state["call"] = None
            if state["stopped"] is None:
                await pause(step_s)

    while True:
        try:
            await session_loop()
            break
        except BaseException as err:
            # An HTTP refusal ends the MCP client's session (it raises out of its task group), with
            # the call in flight: log that call refused, then exit or idle and open a new session.
            # A refusal when opening a session again after idling counts too; at the first start not.
            why = refusal(err)
            if why is None or (state["call"] is None and not state["ready"]):
                raise
        refused(why)
        state["call"] = None
        if on_disable == "exit":
            break
        await idle_until_enabled()
    say({"event": "exit", "steps": state["step"]})
    gate.close()
    shutdown_telemetry()


if __name__ == "__main__":
    try:
        asyncio.run(run())
    except SystemExit:
        raise
    except BaseException as err:  # one JSON line, then a failing exit code
        say({"event": "error", "error": f"{type(err).__name__}: {err}"})
        sys.exit(1)

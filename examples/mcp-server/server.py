"""A small MCP tool server for Firebreak's tests and examples.

Serves three harmless tools over the MCP streamable HTTP transport on a loopback port:
`lookup` (a read_file-like lookup in a fixed table), `notify` (a send_email-like notification
that is only recorded) and `query` (a query_db-like read of a fixed table). Results are
deterministic. Each *successful* call appends one JSON line (tool, args, time, caller) to the call
log, so a test can count the calls that reached this server, e.g. to show that none did after an
agent was disabled at its gateway. The caller is the `X-Agent-Id` header when a client or gateway
sends one, else the `User-Agent`.

    python server.py --port 8931 --call-log /tmp/calls.jsonl
    (or MCP_SERVER_PORT / MCP_CALL_LOG in the environment)

It prints `mcp-server listening on http://127.0.0.1:<port>/mcp` once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from datetime import datetime, timezone

import uvicorn
from mcp.server.fastmcp import Context, FastMCP

DOCUMENTS = {
    "runbook": "Restart the worker, then check the queue depth.",
    "faq": "Refunds take five business days.",
    "policy": "Agents may not send email outside example.com.",
}
ORDERS = [
    {"id": 1, "customer": "alice", "total": 42},
    {"id": 2, "customer": "bob", "total": 7},
    {"id": 3, "customer": "alice", "total": 13},
]

_log_lock = threading.Lock()


def _caller(ctx: Context) -> str | None:
    request = getattr(ctx.request_context, "request", None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    return headers.get("x-agent-id") or headers.get("user-agent")


def _record(log_path: str, ctx: Context, tool: str, args: dict) -> None:
    line = {
        "tool": tool,
        "args": args,
        "time": datetime.now(timezone.utc).isoformat(),
        "caller": _caller(ctx),
    }
    with _log_lock, open(log_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True) + "\n")
        f.flush()


def build(port: int, log_path: str) -> FastMCP:
    server = FastMCP("firebreak-example-tools", host="127.0.0.1", port=port, stateless_http=True)

    @server.tool()
    def lookup(name: str, ctx: Context) -> str:
        """Returns the text of a named document (runbook, faq or policy)."""
        if name not in DOCUMENTS:
            raise ValueError(f"no document named {name!r}; known: {', '.join(sorted(DOCUMENTS))}")
        _record(log_path, ctx, "lookup", {"name": name})
        return DOCUMENTS[name]

    @server.tool()
    def notify(to: str, message: str, ctx: Context) -> str:
        """Records a notification to `to` (nothing is sent) and returns its receipt."""
        _record(log_path, ctx, "notify", {"to": to, "message": message})
        return f"queued notification to {to} ({len(message)} characters)"

    @server.tool()
    def query(customer: str, ctx: Context) -> str:
        """Returns the orders of a customer as JSON, from a fixed table."""
        _record(log_path, ctx, "query", {"customer": customer})
        return json.dumps([o for o in ORDERS if o["customer"] == customer])

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("MCP_SERVER_PORT", "8931")))
    parser.add_argument("--call-log", default=os.environ.get("MCP_CALL_LOG"))
    a = parser.parse_args()
    if not a.call_log:
        parser.error("--call-log (or MCP_CALL_LOG) is required: where successful calls are recorded")
    server = build(a.port, a.call_log)
    uvicorn_server = _AnnouncingServer(
        uvicorn.Config(server.streamable_http_app(), host="127.0.0.1", port=a.port, log_level="warning")
    )
    uvicorn_server.run()


class _AnnouncingServer(uvicorn.Server):
    """Prints the listening line once the socket is bound and the app has started."""

    async def startup(self, sockets=None):
        await super().startup(sockets)
        if self.started:
            print(f"mcp-server listening on http://{self.config.host}:{self.config.port}/mcp", flush=True)

if __name__ == "__main__":
    main()

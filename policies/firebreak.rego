# Firebreak's kill switch as an OPA policy, for AI gateways, Envoy ext_authz filters and MCP
# gateways to query before they let an agent call a tool.
#
# Firebreak (connectors/opa.ts) keeps one document per agent under data.firebreak.agents, written
# through OPA's Data API whenever the agent's kill-switch state changes:
#
#   data.firebreak.agents["agent-7"] = {
#     "status": "enabled" | "disabled",
#     "blocked_tools": ["shell", ...],
#     "version": 12,            # Firebreak's status version: grows with every change
#     "incident": "inc-..." | null,
#   }
#
# Query: POST /v1/data/firebreak/authz/decision with
#   {"input": {"agent_id": "agent-7", "tool": "shell", "min_version": 12}}
# (`tool` and `min_version` optional). `min_version` is the newest status version the caller has
# seen (from a signed status document or an earlier decision): data older than that is stale and
# denied. /v1/data/firebreak/authz/allow answers the boolean alone.
#
# Fail closed: anything not positively allowed is denied: an unknown agent, a missing or
# malformed document, a status other than "enabled", a blocked tool, stale data, malformed input.
package firebreak.authz

default allow := false

agent := data.firebreak.agents[input.agent_id]

# The document has the shape Firebreak writes; anything else is treated as absent.
well_formed if {
	is_string(input.agent_id)
	is_string(agent.status)
	is_number(agent.version)
	agent.version >= 1
	is_array(agent.blocked_tools)
}

enabled if {
	well_formed
	agent.status == "enabled"
}

tool_blocked if {
	is_string(input.tool)
	input.tool in agent.blocked_tools
}

# The tool, when given, must be a string: a number or an object never matches a blocked name.
tool_malformed if {
	"tool" in object.keys(input)
	not is_string(input.tool)
}

tool_ok if {
	not tool_malformed
	not tool_blocked
}

stale if {
	is_number(input.min_version)
	agent.version < input.min_version
}

stale if {
	"min_version" in object.keys(input)
	not is_number(input.min_version)
}

allow if {
	enabled
	tool_ok
	not stale
}

reasons contains "unknown agent" if not agent

reasons contains "malformed agent document" if {
	agent
	not well_formed
}

reasons contains sprintf("agent is %s", [agent.status]) if {
	well_formed
	agent.status != "enabled"
}

reasons contains sprintf("tool %s is blocked", [input.tool]) if tool_blocked

reasons contains "malformed tool" if tool_malformed

reasons contains sprintf("data is stale: version %v is older than %v", [agent.version, input.min_version]) if {
	stale
	is_number(input.min_version)
}

reasons contains "malformed min_version" if {
	"min_version" in object.keys(input)
	not is_number(input.min_version)
}

# The full answer: what a gateway logs and what Firebreak's verification checks (the version
# proves which of Firebreak's changes this answer reflects).
decision := {
	"allow": allow,
	"agent_id": agent_id,
	"version": version,
	"incident": incident,
	"tool_blocked": tool_blocked_answer,
	"reasons": reasons,
}

# Whether the tool itself is blocked, apart from the agent's status (what tools.allow verifies).
default tool_blocked_answer := false

tool_blocked_answer if tool_blocked

default agent_id := null

agent_id := input.agent_id if is_string(input.agent_id)

default version := null

version := agent.version if well_formed

default incident := null

incident := agent.incident if {
	well_formed
	is_string(agent.incident)
}

# Unit tests of policies/firebreak.rego (`opa test policies/`; test/integration/opa.test.ts runs
# them through the provisioned binary).
package firebreak.authz_test

import data.firebreak.authz

agents := {
	"a-on": {"status": "enabled", "blocked_tools": ["shell"], "version": 4, "incident": "inc-1"},
	"a-off": {"status": "disabled", "blocked_tools": [], "version": 7, "incident": "inc-2"},
	"a-bad-version": {"status": "enabled", "blocked_tools": [], "version": 0},
	"a-no-tools": {"status": "enabled", "version": 3},
	"a-odd-status": {"status": "Enabled", "blocked_tools": [], "version": 2},
}

test_enabled_agent_may_call_an_unblocked_tool if {
	authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on", "tool": "search"}
}

test_enabled_agent_without_a_tool_is_allowed if {
	authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on"}
}

test_blocked_tool_is_denied_and_named if {
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "a-on", "tool": "shell"}
	d.allow == false
	d.reasons == {"tool shell is blocked"}
	d.tool_blocked == true
	d.version == 4
	d.incident == "inc-1"
}

test_disabled_agent_is_denied_for_every_tool if {
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "a-off", "tool": "search"}
	d.allow == false
	d.reasons == {"agent is disabled"}
	d.version == 7
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-off"}
}

test_unknown_agent_is_denied if {
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "ghost", "tool": "search"}
	d.allow == false
	d.reasons == {"unknown agent"}
	d.version == null
}

test_no_data_at_all_is_denied if {
	not authz.allow with input as {"agent_id": "a-on", "tool": "search"}
}

test_missing_or_malformed_input_is_denied if {
	not authz.allow with data.firebreak.agents as agents
	not authz.allow with data.firebreak.agents as agents with input as {"tool": "search"}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": ["a-on"]}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on", "tool": {"name": "shell"}}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on", "tool": null}
	not authz.allow with data.firebreak.agents as agents with input as "a-on"
}

test_malformed_documents_are_denied if {
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-bad-version"}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-no-tools"}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-odd-status"}
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "a-no-tools"}
	d.reasons == {"malformed agent document"}
}

test_data_older_than_the_callers_version_is_denied if {
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "a-on", "min_version": 5}
	d.allow == false
	d.reasons == {"data is stale: version 4 is older than 5"}
	authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on", "min_version": 4}
	not authz.allow with data.firebreak.agents as agents with input as {"agent_id": "a-on", "min_version": "4"}
}

test_reasons_are_empty_when_allowed if {
	d := authz.decision with data.firebreak.agents as agents with input as {"agent_id": "a-on", "tool": "search"}
	d == {"allow": true, "agent_id": "a-on", "version": 4, "incident": "inc-1", "tool_blocked": false, "reasons": set()}
}

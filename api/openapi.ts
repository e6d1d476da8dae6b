/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with (zod
 * v4's own JSON Schema output, which is the dialect OpenAPI 3.1 uses), served at /openapi.json;
 * /docs lists its operations for humans (api/docs-page.ts). Adding a route means adding its entry
 * here: test/api/openapi.test.ts compares this document with the routes the app registers.
 */
import { z } from 'zod';
// Registers the post-mortem schemas (PostmortemDocument, ActionItemList, …) in zod's global registry.
import '../domain/postmortem';
import { AgentsImport } from '../connectors/inventory';
import { SIGNATURE_HEADER } from './intake-auth';
import { decisionLogPaths, DECISION_LOG_TOKEN_SCHEME } from './openapi-decision-logs';
import { killSwitchPaths, RUNTIME_TOKEN_SCHEME } from './openapi-kill-switch';
import { ApprovalBody, AttachBody, NoteBody, ReasonBody, ReleaseBody, TaskBody } from './routes/decisions';
import { DrillRequest, Judgement } from './routes/drills';
import { IncidentListQuery, TimelineQuery } from './schemas';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ content: { 'application/json': { schema: ref(id) } } });

function components(): Record<string, unknown> {
  const convert = (io: 'input' | 'output') =>
    z.toJSONSchema(z.globalRegistry, {
      target: 'draft-2020-12',
      io,
      uri: (id) => `#/components/schemas/${id}`,
    }).schemas;
  const inputs = convert('input');
  const outputs = convert('output');
  const pick = (from: Record<string, unknown>, ids: string[]) =>
    Object.fromEntries(
      ids.map((id) => {
        const { $schema: _drop, ...schema } = (from[id] ?? {}) as Record<string, unknown>;
        return [id, schema];
      }),
    );
  return {
    ...pick(inputs, ['GenericAlert', 'AlertmanagerWebhook', 'PagerDutyEvent']),
    ...pick(outputs, [
      'Error',
      'IntakeResponse',
      'AlertmanagerIntakeResponse',
      'PagerDutyIntakeResponse',
      'IncidentSummary',
      'IncidentList',
      'IncidentDetail',
      'TimelineEvent',
      'Timeline',
      'PostmortemDocument',
      'ResponseMetrics',
      'ActionItem',
      'ActionItemList',
    ]),
  };
}

function queryParams(schema: z.ZodObject): unknown[] {
  return Object.entries(schema.shape).map(([name, s]) => {
    const { $schema: _drop, description, ...rest } = z.toJSONSchema(s as z.ZodType, { io: 'input' });
    return {
      name,
      in: 'query',
      required: !(s as z.ZodType).safeParse(undefined).success,
      description,
      schema: rest,
    };
  });
}

const errors = {
  '400': {
    description: 'Malformed JSON or a schema violation; `error.field` names the field',
    ...json('Error'),
  },
  '401': { description: 'Missing or invalid credentials', ...json('Error') },
};

function intake(summary: string, body: string, response: string, security: unknown[]) {
  return {
    post: {
      summary,
      tags: ['intake'],
      security,
      requestBody: { required: true, ...json(body) },
      responses: {
        '202': {
          description: 'Stored durably; the incident workflow is told asynchronously',
          ...json(response),
        },
        ...errors,
        '409': {
          description: 'A signature that was already accepted (`replayed_signature`)',
          ...json('Error'),
        },
        '413': { description: 'Body larger than 1 MiB', ...json('Error') },
        '429': { description: 'Source over its rate limit; see Retry-After', ...json('Error') },
      },
    },
  };
}

const body = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input' });
  return { required: true, content: { 'application/json': { schema: rest } } };
};
const anyJson = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

/**
 * Responders' decisions over the API: the fallback when Slack is down, and what the CLI uses.
 * Each is a workflow update; `decision_id` makes a retried request decide once.
 */
function decisionPaths(): Record<string, unknown> {
  const respond = [{ apiToken: ['respond'] }];
  const stepParam = { name: 'stepId', in: 'path', required: true, schema: { type: 'string' } };
  const decision = (summary: string, schema: z.ZodType, params: unknown[] = [idParam]) => ({
    post: {
      summary,
      tags: ['decisions'],
      security: respond,
      parameters: params,
      requestBody: body(schema),
      responses: {
        '200': anyJson('The decision id and what the workflow returned (`duplicate` on a retry)'),
        '403': {
          description: 'The token lacks the respond scope, or its user may not decide this step',
          ...json('Error'),
        },
        '404': { description: 'No such incident', ...json('Error') },
        '409': {
          description: 'Refused: not waiting, decided already, past its deadline, or not running',
          ...json('Error'),
        },
        ...errors,
      },
    },
  });
  return {
    '/v1/incidents/{id}/approvals/{stepId}': decision(
      'Approve or reject an approval step as the token’s user (role-checked, two-person rule); approving an irreversible or containment-releasing action needs a console-issued token after a multi-factor sign-in (403 step_up_required)',
      ApprovalBody,
      [idParam, stepParam],
    ),
    '/v1/incidents/{id}/tasks/{stepId}/done': decision('Mark a manual task done', TaskBody, [
      idParam,
      stepParam,
    ]),
    '/v1/incidents/{id}/notes': decision('Add a note to the incident timeline', NoteBody),
    '/v1/incidents/{id}/abort': decision(
      'Abort the playbook: completed actions are undone in reverse order, except containment (agent.disable, credentials.revoke, access.restrict), which stays in place',
      ReasonBody,
    ),
    '/v1/incidents/{id}/playbook': withResponses(
      decision(
        'Attach a playbook to an incident running triage (or none), as a decider: pinned as at open, then run',
        AttachBody,
      ),
      {
        '404': {
          description: 'No such incident, or no such playbook (`unknown_playbook`)',
          ...json('Error'),
        },
        '409': {
          description: 'Refused: a playbook other than triage already runs, or the incident is closing',
          ...json('Error'),
        },
      },
    ),
    '/v1/incidents/{id}/release': withResponses(
      decision(
        'Request a release of containment, as a decider: opens a k-of-n approval (`release_<n>`, decided at approvals/{stepId}); only its approval re-enables the agent',
        ReleaseBody,
      ),
      {
        '409': {
          description: 'Refused: nothing is contained, or a release already waits for its approvals',
          ...json('Error'),
        },
      },
    ),
    '/v1/incidents/{id}/close': decision('Close the incident', ReasonBody),
    '/v1/incidents/{id}/escalate': decision('Escalate to a target (paged and posted in Slack)', ReasonBody),
  };
}

/** The same operation with some responses described for what it does. */
function withResponses(op: { post: { responses: Record<string, unknown> } }, over: Record<string, unknown>) {
  return { post: { ...op.post, responses: { ...op.post.responses, ...over } } };
}

/** Tabletop drills: run a scenario (every action simulated), read its report, judge it. */
function drillPaths(): Record<string, unknown> {
  const respond = [{ apiToken: ['respond'] }];
  return {
    '/v1/drills': {
      post: {
        summary: 'Run a drill scenario (drills/*.yaml as JSON, or YAML text); actions are simulated',
        tags: ['drills'],
        security: respond,
        requestBody: body(DrillRequest),
        responses: { '202': anyJson('The drill incident id and its report URL'), ...errors },
      },
    },
    '/v1/drills/{id}/report': {
      get: {
        summary: 'The after-action report: timeline, expectations, approvals, simulated actions',
        tags: ['drills'],
        security: [{ apiToken: ['read'] }],
        parameters: [idParam],
        responses: {
          '200': anyJson('The report'),
          '404': { description: 'No such drill', ...json('Error') },
          ...errors,
        },
      },
    },
    '/v1/drills/{id}/judgements': {
      post: {
        summary: "A facilitator's verdict on an expectation (met or missed)",
        tags: ['drills'],
        security: respond,
        parameters: [idParam],
        requestBody: body(Judgement),
        responses: {
          '200': anyJson('The rescored expectations'),
          '404': { description: 'No such drill or expectation', ...json('Error') },
          ...errors,
        },
      },
    },
  };
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The agent inventory (its kill-switch status: api/openapi-kill-switch.ts). */
function agentPaths(): Record<string, unknown> {
  const agentId = { ...idParam, description: 'The agent id' };
  const notFound = { '404': { description: 'No such agent', ...json('Error') } };
  return {
    '/v1/agents': {
      get: {
        summary: 'List the agent inventory with each agent’s credential references',
        tags: ['agents'],
        security: [{ apiToken: ['read'] }],
        responses: { '200': anyJson('`{agents: [...]}`'), ...errors },
      },
      post: {
        summary: 'Create or update agents in one transaction (`{agents: [...]}` or a bare array)',
        description: 'Credentials are references only; a field that looks like a secret is refused.',
        tags: ['agents'],
        security: [{ apiToken: ['admin'] }],
        requestBody: body(AgentsImport),
        responses: { '200': anyJson('The ids created and updated'), ...errors },
      },
    },
    '/v1/agents/{id}': {
      get: {
        summary: 'One agent with its credential references and kill-switch status',
        tags: ['agents'],
        security: [{ apiToken: ['read'] }],
        parameters: [agentId],
        responses: { '200': anyJson('The agent'), ...notFound, ...errors },
      },
    },
  };
}

/** An incident's evidence: chain-of-custody listing, the stored bytes, hand-collected uploads. */
function evidencePaths(): Record<string, unknown> {
  const noIncident = { '404': { description: 'No such incident or artifact', ...json('Error') } };
  const sha = {
    name: 'sha256',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  };
  const query = (name: string, required: boolean, description: string, schema: object = {}) => ({
    name,
    in: 'query',
    required,
    description,
    schema: { type: 'string', ...schema },
  });
  return {
    '/v1/incidents/{id}/evidence': {
      get: {
        summary: 'The incident’s artifacts with their chain-of-custody records',
        tags: ['evidence'],
        security: [{ apiToken: ['read'] }],
        parameters: [idParam],
        responses: { '200': anyJson('`{incident_id, evidence: [...]}`'), ...noIncident, ...errors },
      },
      post: {
        summary: 'Add an artifact collected by hand; custody names the token’s user',
        tags: ['evidence'],
        security: [{ apiToken: ['respond'] }],
        parameters: [
          idParam,
          query('kind', true, 'a-z and _, at most 40', { pattern: '^[a-z_]{1,40}$' }),
          query('source', true, 'Where it came from', { minLength: 1, maxLength: 500 }),
          query('agent_id', false, 'The agent it concerns'),
        ],
        requestBody: {
          required: true,
          content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
        },
        responses: {
          '201': anyJson('`{sha256, size}` of the stored artifact'),
          ...noIncident,
          ...errors,
          '413': { description: 'Artifact larger than the upload limit', ...json('Error') },
        },
      },
    },
    '/v1/incidents/{id}/evidence/{sha256}': {
      get: {
        summary: 'One artifact’s bytes, re-hashed before they are served',
        tags: ['evidence'],
        security: [{ apiToken: ['read'] }],
        parameters: [idParam, sha],
        responses: {
          '200': {
            description: 'The artifact (header X-Content-SHA256)',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          ...noIncident,
          ...errors,
          '503': { description: 'The stored artifact no longer matches its hash', ...json('Error') },
        },
      },
    },
  };
}

/** Health, the Slack Events API endpoint, and this document with its human page. */
function servicePaths(): Record<string, unknown> {
  const open = [{}];
  return {
    '/healthz': {
      get: {
        summary: 'Liveness and readiness: Temporal and the DB answer',
        tags: ['operations'],
        security: open,
        responses: {
          '200': anyJson('`{status: ok, temporal: {ok}, db: {ok}}`'),
          '503': anyJson('`{status: degraded, …}`: one of them does not answer'),
        },
      },
    },
    '/slack/events': {
      post: {
        summary: 'Slack Events API, interactivity and slash commands (Slack-signed requests)',
        description:
          'Verified with the Slack signing secret (`X-Slack-Signature`, `X-Slack-Request-Timestamp`); 404 when Slack is off or in Socket Mode.',
        tags: ['slack'],
        security: open,
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { type: 'object' } },
            'application/x-www-form-urlencoded': { schema: { type: 'object' } },
          },
        },
        responses: {
          '200': { description: 'Acknowledged' },
          '401': { description: 'Missing, stale or invalid Slack signature', ...json('Error') },
          '404': { description: 'Slack is not configured over HTTP', ...json('Error') },
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document (OpenAPI 3.1)',
        tags: ['operations'],
        security: open,
        responses: { '200': anyJson('The OpenAPI document') },
      },
    },
    '/docs': {
      get: {
        summary: 'The operations of this document as an HTML page (no scripts)',
        tags: ['operations'],
        security: open,
        responses: {
          '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  const source = [{ sourceBearer: [] }, { sourceSignature: [] }];
  const read = [{ apiToken: ['read'] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Firebreak API',
      version: '0.1.0',
      description:
        'Alert intake and incident API of Firebreak, incident response for AI-agent security incidents.',
    },
    components: {
      schemas: components(),
      securitySchemes: {
        sourceBearer: { type: 'http', scheme: 'bearer', description: 'An alert source secret' },
        sourceSignature: {
          type: 'apiKey',
          in: 'header',
          name: SIGNATURE_HEADER,
          description: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, within ±300 s',
        },
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A user API token (scopes read, respond, admin)',
        },
        runtimeToken: RUNTIME_TOKEN_SCHEME,
        decisionLogToken: DECISION_LOG_TOKEN_SCHEME,
      },
    },
    paths: {
      '/v1/alerts': intake('Send an alert (Firebreak format)', 'GenericAlert', 'IntakeResponse', source),
      '/v1/alerts/alertmanager': intake(
        'Prometheus Alertmanager webhook (version 4); one incident entry per alert',
        'AlertmanagerWebhook',
        'AlertmanagerIntakeResponse',
        source,
      ),
      '/v1/alerts/pagerduty': intake(
        'PagerDuty Events API v2 event; `routing_key` may authenticate instead of a header',
        'PagerDutyEvent',
        'PagerDutyIntakeResponse',
        [...source, {}],
      ),
      '/v1/incidents': {
        get: {
          summary: 'List incidents, newest first',
          tags: ['incidents'],
          security: read,
          parameters: queryParams(IncidentListQuery),
          responses: { '200': { description: 'A page of incidents', ...json('IncidentList') }, ...errors },
        },
      },
      '/v1/incidents/{id}': {
        get: {
          summary: 'One incident with its alerts, phase and pending approvals',
          tags: ['incidents'],
          security: read,
          parameters: [idParam],
          responses: {
            '200': { description: 'The incident', ...json('IncidentDetail') },
            '404': { description: 'No such incident', ...json('Error') },
            ...errors,
          },
        },
      },
      '/v1/incidents/{id}/timeline': {
        get: {
          summary: 'The incident’s timeline, oldest first',
          tags: ['incidents'],
          security: read,
          parameters: [idParam, ...queryParams(TimelineQuery)],
          responses: {
            '200': { description: 'A page of timeline events', ...json('Timeline') },
            '404': { description: 'No such incident', ...json('Error') },
            ...errors,
          },
        },
      },
      '/v1/incidents/{id}/postmortem.md': {
        get: {
          summary: 'The post-mortem report as Markdown, built from the stored facts',
          description:
            'The stored report while it covers the whole timeline; otherwise rendered from current facts for this read without storing it (headers X-Postmortem-Revision, X-Postmortem-Stored, X-Postmortem-SHA256).',
          tags: ['postmortem'],
          security: read,
          parameters: [idParam],
          responses: {
            '200': {
              description: 'The report',
              content: { 'text/markdown': { schema: { type: 'string' } } },
            },
            '404': { description: 'No such incident', ...json('Error') },
            ...errors,
          },
        },
      },
      '/v1/incidents/{id}/postmortem.json': {
        get: {
          summary: 'The post-mortem report as JSON: timeline, actions, approvals, evidence, metrics',
          tags: ['postmortem'],
          security: read,
          parameters: [idParam],
          responses: {
            '200': { description: 'The report', ...json('PostmortemDocument') },
            '404': { description: 'No such incident', ...json('Error') },
            ...errors,
          },
        },
      },
      '/v1/incidents/{id}/action-items': {
        get: {
          summary: 'Follow-up tasks the playbook declared, with owners and status',
          tags: ['postmortem'],
          security: read,
          parameters: [idParam],
          responses: {
            '200': { description: 'The action items', ...json('ActionItemList') },
            '404': { description: 'No such incident', ...json('Error') },
            ...errors,
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format 0.0.4), computed from the DB at scrape time',
          description:
            'Every incident series has a `mode` label (live or drill): production dashboards select mode="live". Needs a read token unless FIREBREAK_METRICS_AUTH=none.',
          tags: ['operations'],
          security: [{}, ...read],
          responses: {
            '200': {
              description: 'The exposition',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': {
              description: 'Missing or invalid token (unless FIREBREAK_METRICS_AUTH=none)',
              ...json('Error'),
            },
          },
        },
      },
      ...decisionPaths(),
      ...drillPaths(),
      ...agentPaths(),
      ...killSwitchPaths(),
      ...decisionLogPaths(),
      ...evidencePaths(),
      ...servicePaths(),
    },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with (zod
 * v4's own JSON Schema output, which is the dialect OpenAPI 3.1 uses), served at /openapi.json; a
 * Scalar page at /docs renders it for humans. Adding a route means adding its entry here.
 */
import { z } from 'zod';
// Registers the post-mortem schemas (PostmortemDocument, ActionItemList, …) in zod's global registry.
import '../domain/postmortem';
import { SIGNATURE_HEADER } from './intake-auth';
import { ApprovalBody, NoteBody, ReasonBody, TaskBody } from './routes/decisions';
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
      'Approve or reject an approval step as the token’s user (role-checked, two-person rule)',
      ApprovalBody,
      [idParam, stepParam],
    ),
    '/v1/incidents/{id}/tasks/{stepId}/done': decision('Mark a manual task done', TaskBody, [
      idParam,
      stepParam,
    ]),
    '/v1/incidents/{id}/notes': decision('Add a note to the incident timeline', NoteBody),
    '/v1/incidents/{id}/abort': decision(
      'Abort the playbook (compensations run in reverse order)',
      ReasonBody,
    ),
    '/v1/incidents/{id}/close': decision('Close the incident', ReasonBody),
    '/v1/incidents/{id}/escalate': decision('Escalate to a target (paged and posted in Slack)', ReasonBody),
  };
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
        'IntakeResponse',
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
            'Every incident series has a `mode` label (live or drill): production dashboards select mode="live". Open unless FIREBREAK_METRICS_AUTH=read.',
          tags: ['operations'],
          security: [{}, ...read],
          responses: {
            '200': {
              description: 'The exposition',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': {
              description: 'Missing or invalid token (FIREBREAK_METRICS_AUTH=read)',
              ...json('Error'),
            },
          },
        },
      },
      ...decisionPaths(),
      ...drillPaths(),
    },
  };
}

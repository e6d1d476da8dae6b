/**
 * The OpenAPI entry of the OPA decision-log upload (api/routes/opa-decision-logs.ts): the endpoint
 * an OPA's `decision_logs` plugin posts to, with a decision-log token from the config file.
 */
const errorJson = { content: { 'application/json': { schema: { type: 'object' } } } };

export const DECISION_LOG_TOKEN_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  description: 'A decision-log token from the config file (`opa_decision_logs.senders`), one per OPA',
};

export function decisionLogPaths(): Record<string, unknown> {
  return {
    '/v1/connectors/opa/decision-logs': {
      post: {
        summary: 'OPA uploads its decision logs: the gateway record of the agents’ tool calls',
        description:
          'A JSON array of OPA decision events, `Content-Encoding: gzip` as OPA sends it, or plain. Tool-call decisions (input `agent_id`, `tool`, `tool_call`) are stored verbatim once per `decision_id`; the 200 comes after they are committed (docs/evidence.md).',
        tags: ['evidence'],
        security: [{ decisionLogToken: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'array',
                maxItems: 10000,
                items: {
                  type: 'object',
                  required: ['decision_id', 'timestamp'],
                  properties: {
                    decision_id: { type: 'string' },
                    timestamp: { type: 'string', format: 'date-time' },
                    path: { type: 'string' },
                    input: {},
                    result: {},
                    labels: { type: 'object', properties: { id: { type: 'string' } } },
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Stored: `{received, tool_calls, stored, duplicates}`',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    received: { type: 'integer' },
                    tool_calls: { type: 'integer' },
                    stored: { type: 'integer' },
                    duplicates: { type: 'integer' },
                  },
                },
              },
            },
          },
          '400': {
            description: 'Not a JSON array of decision events; `error.field` names where',
            ...errorJson,
          },
          '401': { description: 'No or an unknown decision-log token', ...errorJson },
          '413': { description: 'Over 1 MiB compressed or 16 MiB decompressed', ...errorJson },
          '415': { description: 'A Content-Encoding other than gzip or none', ...errorJson },
          '429': {
            description: 'Rate limited (uploads per sender, refusals per client address)',
            headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
            ...errorJson,
          },
        },
      },
    },
  };
}

/**
 * The OpenAPI entries of the kill-switch edge: the signed status document, its JWKS, and the
 * OFREP endpoints (single and bulk evaluation, event stream) that OpenFeature providers call.
 * Every route but the JWKS needs a runtime token (`runtimeToken`) or a read-scope API token.
 */
const agentId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The agent id',
};
const errorJson = { content: { 'application/json': { schema: { type: 'object' } } } };
const refusals = {
  '401': { description: 'No or an unknown token (a runtime treats it as "stop")', ...errorJson },
  '403': {
    description: 'An agent outside the token’s scope, or unknown: the same answer for both',
    ...errorJson,
  },
  '429': {
    description: 'Rate limited (refusals per client address, requests per token)',
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
    ...errorJson,
  },
};
const runtime = [{ runtimeToken: [] }, { apiToken: ['read'] }];
const freshDocument = {
  'Firebreak-Status': { schema: { type: 'string' }, description: 'A freshly signed status document (JWS)' },
};
const ofrepBody = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['context'],
        properties: {
          context: {
            type: 'object',
            required: ['targetingKey'],
            properties: {
              targetingKey: { type: 'string', description: 'The agent id' },
              tool: { type: 'string', description: 'The tool, for firebreak.tool.allowed' },
            },
          },
        },
      },
    },
  },
};
const evaluation = {
  description:
    'OFREP evaluation: `{key, value, variant, reason, metadata: {status_version, incident_id?, status_jws}}`',
  ...errorJson,
};

export const RUNTIME_TOKEN_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  description: 'A runtime token from the config file (`runtimes.tokens`), scoped to the agents it names',
};

export function killSwitchPaths(): Record<string, unknown> {
  return {
    '/v1/agents/{id}/status': {
      get: {
        summary: 'The signed kill-switch status document an agent runtime or gateway polls',
        description:
          'Body: a compact JWS (`application/jose`, EdDSA, header `kid`, `typ: firebreak-status+jwt`) with claims `agent_id, status, version, iat, exp (iat + 60), incident, blocked_tools`, verifiable with `/.well-known/jwks.json`. Reject a lower `version` than the one held. A 304 on a matching `If-None-Match` carries a fresh document in `Firebreak-Status`.',
        tags: ['kill switch'],
        security: runtime,
        parameters: [agentId],
        responses: {
          '200': {
            description: 'The signed status document',
            headers: { ETag: { schema: { type: 'string' } }, ...freshDocument },
            content: { 'application/jose': { schema: { type: 'string' } } },
          },
          '304': { description: 'Unchanged since the ETag sent', headers: freshDocument },
          '400': { description: 'An agent id with the NUL character (invalid_text)', ...errorJson },
          ...refusals,
        },
      },
    },
    '/.well-known/jwks.json': {
      get: {
        summary: 'The public keys that sign status documents (JWKS, by kid)',
        tags: ['kill switch'],
        security: [{}],
        responses: {
          '200': { description: '`{keys: [{kty: OKP, crv: Ed25519, x, kid, alg, use}]}`', ...errorJson },
        },
      },
    },
    '/ofrep/v1/evaluate/flags/{key}': {
      post: {
        summary: 'OFREP: evaluate firebreak.agent.enabled or firebreak.tool.allowed for one agent',
        tags: ['kill switch'],
        security: runtime,
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: ofrepBody,
        responses: {
          '200': evaluation,
          '400': { description: 'PARSE_ERROR, TARGETING_KEY_MISSING or INVALID_CONTEXT', ...errorJson },
          '404': { description: 'FLAG_NOT_FOUND', ...errorJson },
          ...refusals,
        },
      },
    },
    '/ofrep/v1/evaluate/flags': {
      post: {
        summary: 'OFREP: evaluate the flags of one agent (and one tool) at once, with ETag',
        description:
          '`{flags, eventStreams: [{type: sse, endpoint: {requestUri}}], metadata: {status_version}}`; 304 on a matching `If-None-Match`, with a fresh document in `Firebreak-Status`.',
        tags: ['kill switch'],
        security: runtime,
        requestBody: ofrepBody,
        responses: {
          '200': { ...evaluation, headers: { ETag: { schema: { type: 'string' } }, ...freshDocument } },
          '304': { description: 'Unchanged since the ETag sent', headers: freshDocument },
          '400': { description: 'PARSE_ERROR or TARGETING_KEY_MISSING', ...errorJson },
          ...refusals,
        },
      },
    },
    '/ofrep/v1/event-stream': {
      get: {
        summary: 'OFREP event stream (SSE): `refetchEvaluation` the moment the agent’s state changes',
        tags: ['kill switch'],
        security: runtime,
        parameters: [{ name: 'agent', in: 'query', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description:
              '`data: {"type":"refetchEvaluation","etag","lastModified"}` per change, `id: v<version>`',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '400': { description: 'An agent id with the NUL character (invalid_text)', ...errorJson },
          ...refusals,
        },
      },
    },
  };
}

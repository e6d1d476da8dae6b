/**
 * PagerDuty Events API v2 format, verbatim as PagerDuty integrations send it, and its normalizer.
 * PagerDuty's severities map onto ours (error → high, warning → medium); `resolve` resolves or
 * annotates per routing rule, and `acknowledge` only annotates an open incident.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { BoundedJson, mapSeverity, type Alert } from '../../domain/alert';

export const PagerDutyPayload = z.object({
  summary: z.string().min(1).max(1024),
  source: z.string().min(1).max(255),
  severity: z.enum(['critical', 'error', 'warning', 'info']),
  /** PagerDuty's own examples write offsets as +0000, which strict ISO-8601 parsers reject. */
  timestamp: z
    .string()
    .refine((t) => !Number.isNaN(Date.parse(t)), 'an ISO-8601 date-time')
    .optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  class: z.string().optional(),
  custom_details: BoundedJson.optional(),
});

export const PagerDutyEvent = z
  .object({
    routing_key: z.string().min(1).max(100),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: z.string().min(1).max(255).optional(),
    payload: PagerDutyPayload.optional(),
    client: z.string().optional(),
    client_url: z.string().optional(),
    links: z.array(z.object({ href: z.string(), text: z.string().optional() })).default([]),
    images: z
      .array(z.object({ src: z.string(), href: z.string().optional(), alt: z.string().optional() }))
      .default([]),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === 'trigger' && !e.payload)
      ctx.addIssue({ code: 'custom', path: ['payload'], message: 'required for event_action trigger' });
    if (e.event_action !== 'trigger' && !e.dedup_key)
      ctx.addIssue({ code: 'custom', path: ['dedup_key'], message: `required for ${e.event_action}` });
  })
  .meta({ id: 'PagerDutyEvent', description: 'PagerDuty Events API v2 event' });
export type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

/** PagerDuty's own rule when a trigger has no dedup_key is a random one; ours is stable per alert. */
function derivedDedupKey(e: PagerDutyEvent): string {
  const p = e.payload;
  return crypto
    .createHash('sha256')
    .update(`${p?.source ?? ''}\0${p?.summary ?? ''}\0${p?.component ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

export function normalizePagerDuty(e: PagerDutyEvent, source: string, receivedAt: string): Alert {
  const p = e.payload;
  const custom =
    p?.custom_details && typeof p.custom_details === 'object' && !Array.isArray(p.custom_details)
      ? (p.custom_details as Record<string, unknown>)
      : p?.custom_details === undefined
        ? {}
        : { value: p.custom_details };
  const agent = custom['agent_id'];
  const labels: Record<string, string> = {};
  if (p?.component) labels['component'] = p.component;
  if (p?.group) labels['group'] = p.group;
  if (p?.class) labels['class'] = p.class;
  if (typeof agent === 'string') labels['agent_id'] = agent;
  const dedupKey = e.dedup_key ?? derivedDedupKey(e);
  const verb = { trigger: '', acknowledge: 'Acknowledged: ', resolve: 'Resolved: ' }[e.event_action];
  return {
    format: 'pagerduty',
    source,
    origin: p?.source ?? 'pagerduty',
    dedupKey,
    title: `${verb}${p?.summary ?? dedupKey}`,
    severity: mapSeverity(p?.severity ?? 'info'),
    status: e.event_action === 'resolve' ? 'resolved' : 'firing',
    agentId: typeof agent === 'string' ? agent : undefined,
    labels,
    details: {
      custom_details: custom,
      links: e.links,
      images: e.images,
      client: e.client,
      client_url: e.client_url,
    },
    occurredAt: p?.timestamp ? new Date(p.timestamp).toISOString() : receivedAt,
    ...(e.event_action === 'acknowledge' ? { acknowledgement: true } : {}),
  };
}

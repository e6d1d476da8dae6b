/**
 * Property-based fuzzing of POST /slack/events (fast-check), on a real stack with Slack served
 * over HTTP against the fake Slack Web API (real Temporal dev server, real SQLite):
 *
 *  1. Unsigned, forged, stale and header-mangled requests with arbitrary bodies get exactly 401
 *     (never a hang) and leave no trace: no call reaches the fake Slack, no row is written.
 *  2. Correctly signed requests with arbitrary or malformed bodies (random bytes, random JSON,
 *     random form fields, `payload=` with random or truncated JSON, random block_actions, view
 *     submissions, slash commands and event envelopes) never get a 5xx nor a 401, never hang, and
 *     the receiver keeps answering a signed url_verification afterwards.
 *  3. A signed click on an approval (or task) that does not exist, on an unknown incident or on a
 *     real one, is acked with 200, answered with a refusal, and changes nothing.
 *
 * Requests nobody acks (an unknown action_id, an unrecognised envelope) are answered by the
 * receiver's ack timeout (2.5 s), so the signed fuzzing sends each generated batch concurrently.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import '../helpers/fuzz-seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTimelineEvents } from '../../db/timeline';
import { APPROVE_ACTION, REJECT_ACTION } from '../../slack/blocks/approval';
import { CONFIRM_VIEW, DECLARE_VIEW, REJECT_VIEW } from '../../slack/blocks/modals';
import { TASK_DONE_ACTION } from '../../slack/blocks/task';
import { sign, TEAM, TEST_SIGNING_SECRET } from '../helpers/slack-requests';
import { eventually } from '../helpers/stack';
import { openIncident, startSlackStack, type SlackStack } from '../slack/setup';

let s: SlackStack;
/** The incident property 3 opens; later properties aim some generated requests at it. */
let real: { incidentId: string; channel: string } | undefined;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** One POST /slack/events; a hang fails the property through the abort. */
async function post(
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.stack.url}/slack/events`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, text };
}

function withType(contentType: string | undefined): Record<string, string> {
  return contentType === undefined ? {} : { 'content-type': contentType };
}

/** A signed url_verification must still get its challenge back: the receiver is healthy. */
async function expectHealthy(): Promise<void> {
  const challenge = `fuzz-${Math.random().toString(36).slice(2)}`;
  const body = JSON.stringify({ type: 'url_verification', challenge, token: 't' });
  const res = await post(body, { 'content-type': JSON_TYPE, ...sign(body) });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toEqual({ challenge });
}

/** Row counts of every table a Slack request can write to. */
function rowCounts(): Record<string, number> {
  const rows = (table: string) =>
    (s.stack.db.$client.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  return {
    incidents: rows('incidents'),
    alerts: rows('alerts'),
    timeline: rows('timeline'),
    auditLog: rows('audit_log'),
    incidentRoles: rows('incident_roles'),
    slackMessages: rows('slack_messages'),
  };
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Short strings of every kind, including the empty one and non-ASCII text. */
const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '%', '&=&', 'null', '{}', '<@UALICE01>'),
);
const userId = fc.oneof(
  { arbitrary: fc.constantFrom('UALICE01', 'UBOB0001'), weight: 3 },
  fc.stringMatching(/^[UW][A-Z0-9]{1,10}$/),
  anyText,
);
/** A channel: the real incident's (once it exists), a channel the fake knows, or anything. */
const channelId = fc.oneof(
  fc.constant('real').map(() => real?.channel ?? 'C00000000'),
  fc.constant('announce').map(() => s.announceChannel),
  fc.stringMatching(/^C[A-Z0-9]{1,10}$/),
  anyText,
);
/** Where a reply goes: the fake (recorded), nowhere useful, or a refused port. */
const responseUrl = fc.oneof(
  fc.nat().map((n) => `${s.fake.url}/respond/fuzz-${n}`),
  fc.constantFrom('', 'not a url', 'http://127.0.0.1:1/respond'),
);
const incidentRef = fc.oneof(
  fc.constant('real').map(() => real?.incidentId ?? 'inc-0000000000-1'),
  fc.stringMatching(/^inc-[0-9a-f]{10}-[0-9]{1,3}$/),
  anyText,
);
const stepRef = fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/), anyText);
/** A button value: our {incidentId, stepId} JSON (with random or wrong-typed fields) or junk. */
const buttonValue = fc.oneof(
  {
    arbitrary: fc.record({ incidentId: incidentRef, stepId: stepRef }).map((v) => JSON.stringify(v)),
    weight: 3,
  },
  fc
    .record({ incidentId: fc.jsonValue(), stepId: fc.jsonValue() }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  anyText,
);
const user = fc.oneof(
  {
    arbitrary: fc.record(
      { id: userId, username: anyText, name: anyText, team_id: fc.constant(TEAM.id) },
      { requiredKeys: ['id'] },
    ),
    weight: 6,
  },
  fc.constant(null),
  fc.jsonValue(),
);
const team = fc.oneof({ arbitrary: fc.constant(TEAM), weight: 6 }, fc.constant(null), fc.jsonValue());
const message = fc.record(
  {
    type: fc.constant('message'),
    ts: fc.oneof(fc.constant('1700000001.000001'), anyText),
    text: fc.oneof(anyText, fc.jsonValue()),
    blocks: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const action = fc.record(
  {
    type: fc.constantFrom('button', 'static_select', 'overflow', ''),
    action_id: fc.oneof(
      { arbitrary: fc.constantFrom(APPROVE_ACTION, REJECT_ACTION, TASK_DONE_ACTION), weight: 6 },
      anyText,
      fc.jsonValue(),
    ),
    block_id: anyText,
    value: fc.oneof({ arbitrary: buttonValue, weight: 4 }, fc.jsonValue()),
    action_ts: anyText,
  },
  { requiredKeys: [] },
);
const blockActions = fc.record(
  {
    type: fc.constantFrom('block_actions', 'interactive_message', 'dialog_submission'),
    user,
    team,
    api_app_id: fc.constant('A0001'),
    token: fc.constant('deprecated-verification-token'),
    trigger_id: anyText,
    channel: fc.oneof(
      { arbitrary: fc.record({ id: channelId, name: anyText }, { requiredKeys: [] }), weight: 4 },
      fc.jsonValue(),
    ),
    container: fc.jsonValue(),
    message: fc.oneof({ arbitrary: message, weight: 4 }, fc.jsonValue()),
    response_url: responseUrl,
    actions: fc.oneof(
      { arbitrary: fc.array(action, { minLength: 1, maxLength: 3 }), weight: 8 },
      fc.constant([]),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: ['type'] },
);
const inputValue = fc.oneof(
  {
    arbitrary: fc.record(
      {
        value: fc.record(
          {
            type: fc.constantFrom('plain_text_input', 'static_select', 'checkboxes'),
            value: fc.oneof({ arbitrary: anyText, weight: 3 }, fc.jsonValue()),
            selected_option: fc.oneof(fc.record({ value: anyText }), fc.jsonValue()),
            selected_options: fc.oneof(
              fc.array(fc.record({ value: anyText }), { maxLength: 2 }),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    weight: 4,
  },
  fc.jsonValue(),
);
const privateMetadata = fc.oneof(
  fc
    .record(
      {
        kind: fc.constantFrom('resolve', 'abort', 'explode'),
        incidentId: incidentRef,
        stepId: stepRef,
        channelId,
        messageTs: anyText,
      },
      { requiredKeys: [] },
    )
    .map((m) => JSON.stringify(m)),
  anyText,
  fc.jsonValue(),
);
const viewSubmission = fc.record(
  {
    type: fc.constantFrom('view_submission', 'view_closed'),
    team,
    user,
    api_app_id: fc.constant('A0001'),
    trigger_id: anyText,
    view: fc.oneof(
      {
        arbitrary: fc.record(
          {
            id: anyText,
            team_id: fc.constant(TEAM.id),
            type: fc.constant('modal'),
            callback_id: fc.oneof(
              { arbitrary: fc.constantFrom(DECLARE_VIEW, CONFIRM_VIEW, REJECT_VIEW), weight: 4 },
              anyText,
            ),
            private_metadata: privateMetadata,
            state: fc.oneof(
              {
                arbitrary: fc.record({
                  values: fc.oneof(
                    {
                      arbitrary: fc.record(
                        {
                          title: inputValue,
                          reason: inputValue,
                          agent: inputValue,
                          severity: inputValue,
                          mode: inputValue,
                        },
                        { requiredKeys: [] },
                      ),
                      weight: 4,
                    },
                    fc.jsonValue(),
                  ),
                }),
                weight: 4,
              },
              fc.jsonValue(),
            ),
            hash: anyText,
          },
          { requiredKeys: [] },
        ),
        weight: 6,
      },
      fc.jsonValue(),
    ),
    response_urls: fc.oneof(fc.constant([]), fc.jsonValue()),
  },
  { requiredKeys: ['type'] },
);
const slackEvent = fc.oneof(
  {
    arbitrary: fc.record(
      {
        type: fc.constant('reaction_added'),
        user: userId,
        reaction: fc.oneof(
          fc.constant('timeline').map(() => s.stack.config.slack?.timelineEmoji ?? 'pushpin'),
          anyText,
        ),
        item: fc.oneof(
          {
            arbitrary: fc.record(
              { type: fc.constantFrom('message', 'file'), channel: channelId, ts: anyText },
              { requiredKeys: [] },
            ),
            weight: 4,
          },
          fc.jsonValue(),
        ),
        item_user: userId,
        event_ts: anyText,
      },
      { requiredKeys: ['type'] },
    ),
    weight: 3,
  },
  fc.record({
    type: fc.oneof(fc.constantFrom('message', 'app_mention', 'app_uninstalled', 'tokens_revoked'), anyText),
    channel: fc.oneof(channelId, fc.jsonValue()),
    user: userId,
    text: anyText,
    ts: anyText,
  }),
  fc.jsonValue(),
);
const eventEnvelope = fc.record(
  {
    token: fc.constant('deprecated-verification-token'),
    team_id: fc.oneof(fc.constant(TEAM.id), anyText),
    api_app_id: fc.constant('A0001'),
    type: fc.oneof({ arbitrary: fc.constant('event_callback'), weight: 4 }, anyText),
    event_id: anyText,
    event_time: fc.oneof(fc.integer(), fc.jsonValue()),
    authorizations: fc.oneof(
      { arbitrary: fc.constant([{ team_id: TEAM.id, user_id: 'UBOT0001', is_bot: true }]), weight: 3 },
      fc.jsonValue(),
    ),
    event: slackEvent,
  },
  { requiredKeys: ['type'] },
);
const verification = fc.oneof(
  fc.record(
    { type: fc.constant('url_verification'), challenge: fc.jsonValue(), token: anyText },
    { requiredKeys: ['type'] },
  ),
  fc.record({ ssl_check: fc.oneof(fc.constant('1'), fc.jsonValue()), token: anyText }),
);
const commandText = fc.oneof(
  fc.constantFrom('', 'help', 'status', 'declare', 'drill', 'resolve', 'abort', 'note', 'escalate', 'role'),
  fc
    .tuple(fc.constantFrom('note', 'escalate', 'role', 'status', 'help'), anyText, anyText)
    .map((parts) => parts.join(' ')),
  fc
    .tuple(fc.constantFrom('role', 'escalate'), anyText, userId)
    .map(([sub, a, u]) => `${sub} ${a} <@${u}|x>`),
  anyText,
);
/** A slash command as form fields: any subset, any values, plus random extra (or repeated) fields. */
const slashCommand = fc
  .tuple(
    fc.record(
      {
        token: fc.constant('deprecated-verification-token'),
        team_id: fc.oneof(fc.constant(TEAM.id), anyText),
        team_domain: anyText,
        channel_id: channelId,
        channel_name: anyText,
        user_id: userId,
        user_name: anyText,
        command: fc.oneof({ arbitrary: fc.constant('/incident'), weight: 6 }, anyText),
        text: commandText,
        api_app_id: fc.constant('A0001'),
        response_url: responseUrl,
        trigger_id: anyText,
      },
      { requiredKeys: ['command'] },
    ),
    fc.array(fc.tuple(anyText, anyText), { maxLength: 3 }),
  )
  .map(([fields, extra]) => new URLSearchParams([...Object.entries(fields), ...extra]).toString());

/** An interaction as Slack sends it (`payload=<json>`), the JSON possibly cut short or mangled. */
const interaction = fc
  .tuple(
    fc.oneof(
      { arbitrary: blockActions, weight: 3 },
      { arbitrary: viewSubmission, weight: 2 },
      fc.jsonValue(),
    ),
    fc.oneof(
      { arbitrary: fc.constant('whole' as const), weight: 4 },
      fc.constant('truncated' as const),
      fc.constant('mangled' as const),
    ),
    fc.nat(),
  )
  .map(([payload, how, cut]) => {
    let json = JSON.stringify(payload) ?? 'undefined';
    if (how === 'truncated') json = json.slice(0, cut % (json.length + 1));
    if (how === 'mangled')
      json = `${json.slice(0, cut % (json.length + 1))}\u0000}${json.slice(cut % (json.length + 1))}`;
    return new URLSearchParams({ payload: json }).toString();
  });

interface SignedCase {
  what: string;
  body: string;
  contentType: string | undefined;
}

/** Slack-shaped bodies with random contents, signed: they reach Bolt and the listeners. */
const slackShaped: fc.Arbitrary<SignedCase> = fc.oneof(
  slashCommand.map((body) => ({ what: 'command', body, contentType: FORM })),
  interaction.map((body) => ({ what: 'interaction', body, contentType: FORM })),
  fc
    .oneof(eventEnvelope, verification)
    .map((v) => ({ what: 'event', body: JSON.stringify(v), contentType: JSON_TYPE })),
);

/** Anything at all, signed: bytes, text, JSON values, form fields, under any content type. */
const garbage: fc.Arbitrary<SignedCase> = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc.array(fc.tuple(anyText, anyText), { maxLength: 5 }).map((p) => new URLSearchParams(p).toString()),
      fc
        .oneof(
          anyText,
          fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
        )
        .map((p) => `payload=${encodeURIComponent(p)}`),
      fc.constantFrom(
        '',
        'payload=',
        'payload',
        '=',
        '&&',
        '{',
        '[]',
        'null',
        '0',
        '"x"',
        'payload=null',
        'payload=%7B',
      ),
    ),
    fc.constantFrom(
      JSON_TYPE,
      FORM,
      'text/plain',
      'application/json; charset=utf-8',
      'multipart/form-data',
      undefined,
    ),
  )
  .map(([body, contentType]) => ({ what: 'garbage', body, contentType }));

/** Header-safe text (fetch refuses control characters in header values). */
const printable = (maxLength: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${maxLength}}$`));

/** Every way a request can fail Slack's v0 signature check. */
type Forgery =
  | { kind: 'unsigned' }
  | { kind: 'no-timestamp' }
  | { kind: 'no-signature' }
  | { kind: 'wrong-secret'; secret: string }
  | { kind: 'stale'; offset: number }
  | { kind: 'altered'; suffix: string }
  | { kind: 'garbage-signature'; signature: string; timestamp: string }
  | { kind: 'mangled-timestamp'; timestamp: string }
  | { kind: 'mangled-signature'; how: (typeof MANGLINGS)[number] };

/** Near misses of a valid signature header. */
const MANGLINGS = ['v1', 'upper', 'truncated', 'extra', 'space', 'doubled'] as const;

const forgery: fc.Arbitrary<Forgery> = fc.oneof(
  fc.constant({ kind: 'unsigned' as const }),
  fc.constant({ kind: 'no-timestamp' as const }),
  fc.constant({ kind: 'no-signature' as const }),
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((x) => x !== TEST_SIGNING_SECRET)
    .map((secret) => ({ kind: 'wrong-secret' as const, secret })),
  // More than 5 minutes away (2 s of margin for the clock ticking between signing and checking).
  fc
    .tuple(fc.integer({ min: 5 * 60 + 2, max: 10 * 365 * 86_400 }), fc.boolean())
    .map(([offset, past]) => ({ kind: 'stale' as const, offset: past ? -offset : offset })),
  fc.string({ minLength: 1, maxLength: 10 }).map((suffix) => ({ kind: 'altered' as const, suffix })),
  fc
    .record({
      signature: fc.oneof(
        printable(80),
        fc.stringMatching(/^v0=[0-9a-f]{64}$/),
        fc.constantFrom('v0=', 'v0', '=', 'v0=00'),
      ),
      timestamp: fc.oneof(fc.constant('now'), printable(20)),
    })
    .map((r) => ({ kind: 'garbage-signature' as const, ...r })),
  fc
    .oneof(
      fc.constantFrom(
        ' {now}',
        '{now}.0',
        '{now}.5',
        '+{now}',
        '0{now}',
        '{now}e0',
        '0x{now}',
        '-{now}',
        '{now}, {now}',
      ),
      printable(20).filter((x) => x.trim() !== '' && !/^\d+$/.test(x.trim())),
    )
    .map((timestamp) => ({ kind: 'mangled-timestamp' as const, timestamp })),
  fc.constantFrom(...MANGLINGS).map((how) => ({ kind: 'mangled-signature' as const, how })),
);

/** The headers (and body actually sent) for a forged request; never a valid signature. */
function forge(f: Forgery, body: string): { headers: Record<string, string>; body: string } {
  const now = nowSeconds();
  const good = sign(body, now);
  switch (f.kind) {
    case 'unsigned':
      return { headers: {}, body };
    case 'no-timestamp':
      return { headers: { 'x-slack-signature': good['x-slack-signature'] }, body };
    case 'no-signature':
      return { headers: { 'x-slack-request-timestamp': good['x-slack-request-timestamp'] }, body };
    case 'wrong-secret':
      return { headers: sign(body, now, f.secret), body };
    case 'stale':
      return { headers: sign(body, now + f.offset), body };
    case 'altered':
      return { headers: good, body: body + f.suffix };
    case 'garbage-signature': {
      const timestamp = f.timestamp === 'now' ? String(now) : f.timestamp;
      return { headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': f.signature }, body };
    }
    case 'mangled-timestamp': {
      // Signed over the timestamp header as sent, as a client would: the server must not accept
      // a timestamp that is not a plain integer, whatever it parses to.
      const timestamp = f.timestamp.replaceAll('{now}', String(now));
      const signature = `v0=${hmacOver(`v0:${timestamp}:${body}`)}`;
      return { headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature }, body };
    }
    case 'mangled-signature': {
      const sig = good['x-slack-signature'];
      const mangled = {
        v1: sig.replace(/^v0=/, 'v1='),
        upper: `v0=${sig.slice(3).toUpperCase()}`,
        truncated: sig.slice(0, -1),
        extra: `${sig}0`,
        space: sig.replace('=', '= '),
        doubled: `${sig}, ${sig}`,
      }[f.how];
      return { headers: { ...good, 'x-slack-signature': mangled }, body };
    }
  }
}

function hmacOver(base: string): string {
  return crypto.createHmac('sha256', TEST_SIGNING_SECRET).update(base).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('POST /slack/events fuzzing', () => {
  it('answers every unsigned, forged, stale or header-mangled request with 401 and does nothing', async () => {
    const callsBefore = s.fake.calls.length;
    const rowsBefore = rowCounts();
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: slackShaped, weight: 3 }, garbage), forgery, async (c, f) => {
        const forged = forge(f, c.body);
        const res = await post(forged.body, { ...withType(c.contentType), ...forged.headers });
        kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
        expect(res.status, `${f.kind} ${c.what} ${JSON.stringify(c.body).slice(0, 200)}`).toBe(401);
        expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'unauthorized' } });
      }),
      { numRuns: 200 },
    );
    // Anything a forged request had set off (a reply, a modal, a decision, a declared incident)
    // would have reached the fake Slack or the database by now; give slow listeners a moment.
    await new Promise((r) => setTimeout(r, 300));
    // (auth.test is the bot identity's own background lookup, never a request's doing.)
    expect(
      s.fake.calls
        .slice(callsBefore)
        .map((c) => c.method)
        .filter((m) => m !== 'auth.test'),
    ).toEqual([]);
    expect(rowCounts()).toEqual(rowsBefore);
    expect(kinds.size, 'every kind of forgery was tried').toBe(9);
    await expectHealthy();
  });

  it('acks a signed click on an approval or task that does not exist, refuses it, and changes nothing', async () => {
    real = await openIncident(s, { title: 'Fuzz target incident', dedup_key: 'slack-fuzz-target' });
    const target = real;
    const rowsBefore = rowCounts();
    const refusals = { real: 0, unknown: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          actionId: fc.constantFrom(APPROVE_ACTION, REJECT_ACTION, TASK_DONE_ACTION),
          // The real incident (which has no such step) or an incident that never existed.
          incidentId: fc.oneof(
            fc.constant(target.incidentId),
            fc.stringMatching(/^inc-[0-9a-f]{10}-[0-9]{1,3}$/).filter((id) => id !== target.incidentId),
          ),
          // No playbook has a step by this name (they never start with `nostep`).
          stepId: fc.stringMatching(/^[a-z0-9_]{0,30}$/).map((x) => `nostep_${x}`),
          user: fc.constantFrom(
            { id: 'UALICE01', name: 'alice' }, // incident_commander: approver by role
            { id: 'UBOB0001', name: 'bob' },
            { id: 'UCAROL01', name: 'carol' },
          ),
          channel: fc.constantFrom(target.channel, 'CELSEWHERE1'),
          ts: fc.nat({ max: 999_999 }).map((n) => `9999999999.${String(n).padStart(6, '0')}`),
        }),
        async (c) => {
          const modalsBefore = s.fake.sent('views.open').length;
          const res = await s.slack.click({
            actionId: c.actionId,
            value: JSON.stringify({ incidentId: c.incidentId, stepId: c.stepId }),
            channel: c.channel,
            message: { ts: c.ts, text: 'Approve the fuzz step?', blocks: [] },
            user: c.user,
          });
          expect(res.status).toBe(200);
          if (c.actionId === REJECT_ACTION) {
            // Reject first asks for a reason: the modal opens, nothing is decided yet.
            await eventually(() => s.fake.sent('views.open').length > modalsBefore, 5000, 'reject modal');
            return;
          }
          // The clicking user is told why nothing happened, through the click's response_url.
          const reply = await eventually(
            () => s.fake.responses(res.responsePath)[0],
            5000,
            `refusal for ${JSON.stringify(c)}`,
          );
          const text = String(reply.text);
          if (c.incidentId === target.incidentId) {
            refusals.real++;
            expect(text).toMatch(/^Not done: /);
          } else {
            refusals.unknown++;
            expect(text).toBe(':lock: This incident is closed.');
          }
        },
      ),
      // A failing click costs the wait for its reply; the first counterexample is small enough.
      { numRuns: 60, endOnFailure: true },
    );
    expect(refusals.real, 'clicks on the real incident').toBeGreaterThan(0);
    expect(refusals.unknown, 'clicks on unknown incidents').toBeGreaterThan(0);
    // No decision, task completion or refused-attempt audit reached the timeline, no message was
    // re-rendered as decided, and no incident or alert appeared.
    const decisions = (await allTimelineEvents(s.stack.db)).filter(
      (r) => /^(approval|task)\./.test(r.kind) || String(r.eventKey ?? '').includes(':decision:'),
    );
    expect(decisions).toEqual([]);
    expect(
      s.fake.sent('chat.update').filter((call) => String(call.args.ts).startsWith('9999999999.')),
    ).toEqual([]);
    const rowsAfter = rowCounts();
    expect(rowsAfter.incidents).toBe(rowsBefore.incidents);
    expect(rowsAfter.alerts).toBe(rowsBefore.alerts);
    expect(rowsAfter.incidentRoles).toBe(rowsBefore.incidentRoles);
    await expectHealthy();
  });

  /** Passing runs take seconds; shrinking a failure re-sends batches that may wait for the ack timeout. */
  const SHRINK_TIMEOUT = 180_000;

  /** Sends a batch of signed cases at once; each must be answered without a 5xx or a 401. */
  async function signedBatchProperty(arb: fc.Arbitrary<SignedCase>, numRuns: number, maxLength: number) {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength, size: 'max' }), async (batch) => {
        const answers = await Promise.all(
          batch.map((c) => post(c.body, { ...withType(c.contentType), ...sign(c.body) })),
        );
        answers.forEach((a, i) => {
          const c = batch[i]!;
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          const what = `${c.what} ${c.contentType} ${JSON.stringify(c.body).slice(0, 300)} → ${a.status} ${a.text.slice(0, 200)}`;
          expect(a.status, what).toBeLessThan(500);
          // The signature is right, so a 401 would mean the receiver verified something else.
          expect(a.status, what).not.toBe(401);
          if (a.status === 400)
            expect(JSON.parse(a.text), what).toMatchObject({ error: { code: 'invalid_request' } });
        });
        await expectHealthy();
      }),
      { numRuns },
    );
    return statuses;
  }

  it(
    'never answers a signed Slack-shaped request with random contents with a 5xx, and keeps serving',
    async () => {
      const repliesBefore = s.fake.sent('response_url').length;
      const statuses = await signedBatchProperty(slackShaped, 5, 100);
      // The generators must reach the listeners (acks, replies) and the receiver's refusals.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
      await eventually(
        () => s.fake.sent('response_url').length > repliesBefore,
        5000,
        'a slash command reply',
      );
      expect((await fetch(`${s.stack.url}/healthz`)).status).toBe(200);
    },
    SHRINK_TIMEOUT,
  );

  it(
    'never answers a signed request with an arbitrary body with a 5xx, and keeps serving',
    async () => {
      const statuses = await signedBatchProperty(garbage, 4, 100);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
      expect((await fetch(`${s.stack.url}/healthz`)).status).toBe(200);
    },
    SHRINK_TIMEOUT,
  );
});

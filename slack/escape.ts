/**
 * Escaping for text that did not come from Firebreak itself (alert titles, agent ids, notes,
 * reasons) before it goes into Slack mrkdwn or Block Kit text. Slack treats `<…>` as control
 * sequences (`<!channel>`, `<@U123>`, `<http://x|label>`) and decodes `&amp;`, `&lt;`, `&gt;`,
 * so escaping exactly those three characters makes attacker-supplied text inert; formatting we
 * add ourselves (mentions of configured users, links we build) is assembled after escaping.
 */

/** Escapes &, < and > so Slack renders the text literally and never as a mention or link. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's escaping undone: for text Slack sent us (slash command text, message text). */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` UTF-16 units (never fewer characters than Slack counts), on a
 * grapheme boundary so no emoji or combining sequence is split, and never inside an entity
 * (`&amp;`) that escaping produced; the cut is marked with an ellipsis.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const { segment } of graphemes.segment(text)) {
    if (out.length + segment.length > max - 1) break;
    out += segment;
  }
  return `${out.replace(/&[a-z]*$/, '')}…`;
}

/**
 * Escaped, then cut to `max` characters (Block Kit rejects over-long text): escaping first, so
 * the limit holds for what Slack receives (`&` becomes five characters).
 */
export function safeText(text: string | null | undefined, max = 2900): string {
  return cutText(escapeSlack(text ?? ''), max);
}

/** A mention we build ourselves, only from a well-formed Slack user id. */
export function mentionUser(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : safeText(userId, 100);
}

/** A user group mention (`<!subteam^S123>`) or user mention from a target such as `U123`/`S123`. */
export function mentionTarget(target: string): string {
  if (/^S[A-Z0-9]+$/.test(target)) return `<!subteam^${target}>`;
  return mentionUser(target);
}

/** A link we build from our own URL; the label is escaped, and `|`/`>` cannot end it early. */
export function link(url: string, label: string): string {
  const safeUrl = url.replace(/[<>|\s]/g, encodeURIComponent);
  return `<${safeUrl}|${safeText(label, 200).replace(/\|/g, '¦')}>`;
}

/** Slack's date formatting token, with a plain fallback for clients that cannot render it. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return safeText(iso, 100);
  return `<!date^${seconds}^{date_short_pretty} {time}|${safeText(iso, 100)}>`;
}

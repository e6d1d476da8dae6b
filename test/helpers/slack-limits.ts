/**
 * The checks the fake Slack (fake-slack.ts) applies to what Firebreak sends, written from Slack's
 * public reference (docs.slack.dev: Block Kit blocks, block elements, composition objects,
 * chat.postMessage, views.open), not from Firebreak's code: up to 50 blocks in a message and 100
 * in a modal, block_id at most 255 characters and unique in the message, section text 3000,
 * section fields at most 10 of 2000 each, context at most 10 elements, header text 150, actions
 * at most 25 elements, button text 75 / value 2000 / action_id 255, modal title, submit and close
 * 24, private_metadata 3000, callback_id 255, message text 40000. A violation is reported the way
 * Slack does: `invalid_blocks` with `response_metadata.messages` naming the JSON pointer.
 */

export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  blockId: 255,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  textObject: 3000,
  headerText: 150,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  modalTitle: 24,
  privateMetadata: 3000,
  callbackId: 255,
  messageText: 40_000,
} as const;

type Json = Record<string, any>;

/** Slack's limits count characters as JavaScript does not: by code point, not UTF-16 unit. */
export const chars = (s: string): number => [...s].length;

function tooLong(problems: string[], value: unknown, max: number, pointer: string): void {
  if (typeof value === 'string' && chars(value) > max)
    problems.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${pointer}]`);
}

function textObject(problems: string[], t: unknown, max: number, pointer: string): void {
  if (t === undefined) return;
  if (typeof t !== 'object' || t === null || typeof (t as Json).text !== 'string') {
    problems.push(`[ERROR] must be a text object [json-pointer:${pointer}]`);
    return;
  }
  const obj = t as Json;
  if (!['plain_text', 'mrkdwn'].includes(obj.type))
    problems.push(`[ERROR] must be plain_text or mrkdwn [json-pointer:${pointer}/type]`);
  if (obj.text === '') problems.push(`[ERROR] must be more than 0 characters [json-pointer:${pointer}/text]`);
  tooLong(problems, obj.text, max, `${pointer}/text`);
}

function element(problems: string[], e: Json, pointer: string): void {
  tooLong(problems, e.action_id, LIMITS.actionId, `${pointer}/action_id`);
  if (e.type === 'button') {
    textObject(problems, e.text, LIMITS.buttonText, `${pointer}/text`);
    tooLong(problems, e.value, LIMITS.buttonValue, `${pointer}/value`);
  }
}

function block(problems: string[], b: Json, pointer: string): void {
  tooLong(problems, b.block_id, LIMITS.blockId, `${pointer}/block_id`);
  switch (b.type) {
    case 'section':
      if (b.text === undefined && b.fields === undefined)
        problems.push(`[ERROR] must provide text or fields [json-pointer:${pointer}]`);
      textObject(problems, b.text, LIMITS.sectionText, `${pointer}/text`);
      if (Array.isArray(b.fields)) {
        if (b.fields.length > LIMITS.fields)
          problems.push(
            `[ERROR] must be no more than ${LIMITS.fields} items [json-pointer:${pointer}/fields]`,
          );
        b.fields.forEach((f: unknown, i: number) =>
          textObject(problems, f, LIMITS.fieldText, `${pointer}/fields/${i}`),
        );
      }
      if (b.accessory) element(problems, b.accessory as Json, `${pointer}/accessory`);
      return;
    case 'context': {
      const els = (b.elements ?? []) as Json[];
      if (els.length === 0 || els.length > LIMITS.contextElements)
        problems.push(
          `[ERROR] must have 1 to ${LIMITS.contextElements} items [json-pointer:${pointer}/elements]`,
        );
      els.forEach((e, i) => {
        if (e.type !== 'image') textObject(problems, e, LIMITS.textObject, `${pointer}/elements/${i}`);
      });
      return;
    }
    case 'header':
      textObject(problems, b.text, LIMITS.headerText, `${pointer}/text`);
      return;
    case 'actions': {
      const els = (b.elements ?? []) as Json[];
      if (els.length === 0 || els.length > LIMITS.actionsElements)
        problems.push(
          `[ERROR] must have 1 to ${LIMITS.actionsElements} items [json-pointer:${pointer}/elements]`,
        );
      els.forEach((e, i) => element(problems, e, `${pointer}/elements/${i}`));
      return;
    }
    case 'input':
      textObject(problems, b.label, 2000, `${pointer}/label`);
      if (b.element) element(problems, b.element as Json, `${pointer}/element`);
      return;
    case 'divider':
      return;
    default:
      problems.push(`[ERROR] unsupported type: ${String(b.type)} [json-pointer:${pointer}/type]`);
  }
}

/** Problems with `blocks` on a surface (message or modal), Slack-style; empty when fine. */
export function blockProblems(blocks: unknown, surface: 'message' | 'modal', base = '/blocks'): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return [`[ERROR] must be an array [json-pointer:${base}]`];
  const problems: string[] = [];
  const max = surface === 'message' ? LIMITS.messageBlocks : LIMITS.modalBlocks;
  if (blocks.length > max) problems.push(`[ERROR] must be no more than ${max} items [json-pointer:${base}]`);
  const ids = new Set<string>();
  blocks.forEach((b: Json, i) => {
    if (typeof b.block_id === 'string') {
      if (ids.has(b.block_id))
        problems.push(`[ERROR] duplicate block_id: ${b.block_id} [json-pointer:${base}/${i}/block_id]`);
      ids.add(b.block_id);
    }
    block(problems, b, `${base}/${i}`);
  });
  return problems;
}

/** Problems with a modal view (views.open). */
export function viewProblems(view: Json): string[] {
  const problems: string[] = [];
  textObject(problems, view.title, LIMITS.modalTitle, '/view/title');
  textObject(problems, view.submit, LIMITS.modalTitle, '/view/submit');
  textObject(problems, view.close, LIMITS.modalTitle, '/view/close');
  tooLong(problems, view.private_metadata, LIMITS.privateMetadata, '/view/private_metadata');
  tooLong(problems, view.callback_id, LIMITS.callbackId, '/view/callback_id');
  return [...problems, ...blockProblems(view.blocks, 'modal', '/view/blocks')];
}

/**
 * The Filters page's generated scripts against the Sieve oracle: for a table of filter settings,
 * the generated script compiles in our validator and in Pigeonhole's sieve-test, and both give the
 * same actions on every message of the oracle corpus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileScript, runScripts, SieveMessage } from '../../server/sieve/index.ts';
import {
  generateScript,
  type FilterSettingsInput,
  filterSettingsSchema,
} from '../../server/sieve/filters/index.ts';
import {
  createPigeonhole,
  normalizeOurs,
  pigeonholeAvailable,
  type Pigeonhole,
} from '../helpers/pigeonhole.ts';
import { ENVELOPE, MESSAGES } from './sieve/messages.ts';

const AVAILABLE = pigeonholeAvailable();

/** Today and other days, as YYYY-MM-DD in UTC (both interpreters run in UTC here). */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

const VACATION = { subject: 'Away', body: 'I am away until Monday.\nUrgent: call the office.' };

export const MODELS: Record<string, FilterSettingsInput> = {
  empty: {},
  'from → label, read': {
    filters: [{ conditions: { from: 'alice' }, actions: { label: 'Friends', markRead: true } }],
  },
  'to/cc → star': { filters: [{ conditions: { to: 'team@' }, actions: { star: true } }] },
  'subject → archive': { filters: [{ conditions: { subject: 'meeting' }, actions: { skipInbox: true } }] },
  'has words → label, skip inbox': {
    filters: [{ conditions: { hasWords: 'invoice' }, actions: { label: 'Bills', skipInbox: true } }],
  },
  "doesn't have → delete": {
    filters: [{ conditions: { doesNotHave: 'budget' }, actions: { delete: true } }],
  },
  'size → forward': {
    filters: [{ conditions: { largerThan: 400 }, actions: { forward: 'big@remote.example' } }],
  },
  'small → read': { filters: [{ conditions: { smallerThan: 400 }, actions: { markRead: true } }] },
  'attachment → label, star': {
    filters: [{ conditions: { hasAttachment: true }, actions: { label: 'Attachments', star: true } }],
  },
  'no attachment → never spam': {
    filters: [{ conditions: { hasAttachment: false }, actions: { neverSpam: true } }],
  },
  'list → label, stop; then archive all': {
    filters: [
      { conditions: { listId: 'acme-users' }, actions: { label: 'Lists/ACME', stop: true } },
      { conditions: { subject: 'e' }, actions: { skipInbox: true, markRead: true } },
    ],
  },
  'every condition at once': {
    filters: [
      {
        conditions: {
          from: 'example',
          to: 'example',
          subject: 'o',
          hasWords: 'the',
          doesNotHave: 'zzz',
          largerThan: 10,
          smallerThan: 100_000,
          listId: 'acme',
        },
        actions: {
          label: 'All "quoted" \\ name',
          markRead: true,
          star: true,
          forward: 'copy@remote.example',
        },
      },
    ],
  },
  'forward, keep a copy': { forwarding: { address: 'me@remote.example', keepCopy: true } },
  'forward, no copy; a filter files one': {
    forwarding: { address: 'me@remote.example', keepCopy: false },
    filters: [{ conditions: { from: 'bob' }, actions: { label: 'From Bob' } }],
  },
  'vacation always': { vacation: { ...VACATION, days: 3 } },
  'vacation today': {
    vacation: { ...VACATION, from: day(-1), until: day(1), addresses: ['bob@example.net'] },
  },
  'vacation over': { vacation: { ...VACATION, from: day(-10), until: day(-2) } },
  'vacation not yet': { vacation: { ...VACATION, from: day(2) } },
  everything: {
    vacation: { ...VACATION, until: day(5) },
    forwarding: { address: 'me@remote.example', keepCopy: true },
    filters: [
      {
        name: 'bills',
        conditions: { hasAttachment: true, hasWords: 'invoice' },
        actions: { label: 'Bills', neverSpam: true },
      },
      {
        name: 'lists',
        conditions: { listId: 'lists.example.org' },
        actions: { skipInbox: true, stop: true },
      },
      { name: 'spam', conditions: { subject: 'Out of office' }, actions: { delete: true } },
    ],
  },
};

const cases = Object.entries(MODELS).flatMap(([modelName, model]) =>
  Object.entries(MESSAGES).map(([messageName, message]) => ({ modelName, messageName, model, message })),
);

describe.skipIf(!AVAILABLE)('generated filter scripts: Pigeonhole sieve-test agrees', () => {
  let pigeonhole: Pigeonhole;
  beforeAll(() => {
    pigeonhole = createPigeonhole({ personal: {}, global: {} });
  });
  afterAll(() => pigeonhole?.close());

  it.each(cases)('$modelName × $messageName', ({ model, message }) => {
    const script = generateScript(filterSettingsSchema.parse(model));
    const result = runScripts([compileScript(script)], {
      message: new SieveMessage(message),
      envelope: ENVELOPE,
      zone: '+0000',
    });
    const ours = normalizeOurs(result);
    const theirs = pigeonhole.run(script, message, ENVELOPE);
    expect(theirs.compiled).toBe(true);
    expect({ ...ours, actions: ours.actions.map((line) => line.replace(/[\r\n]/g, '?')) }).toEqual(theirs);
  });
});

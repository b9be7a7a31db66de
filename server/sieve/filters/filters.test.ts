import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkScript } from '../script.ts';
import {
  dryRun,
  filterSettingsSchema,
  generateScript,
  readScript,
  type FilterSettingsInput,
} from './index.ts';

const settings = (input: FilterSettingsInput) => filterSettingsSchema.parse(input);

const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`);
const NEWSLETTER = crlf([
  'From: News <news@shop.example>',
  'To: eve@example.test',
  'Subject: Offers of the week',
  'List-Id: <offers.shop.example>',
  '',
  'Cheap things. Unsubscribe here.',
]);
const FRIEND = crlf([
  'From: Bob <bob@friends.example>',
  'To: eve@example.test',
  'Subject: Lunch?',
  '',
  'Tomorrow?',
]);

const SAMPLE = settings({
  filters: [
    {
      name: 'shop',
      conditions: { listId: 'shop.example' },
      actions: { label: 'Shopping', skipInbox: true, markRead: true },
    },
    { conditions: { from: 'bob@' }, actions: { star: true, stop: true } },
    { conditions: { subject: 'offers' }, actions: { delete: true } },
  ],
  forwarding: { address: 'eve@elsewhere.example', keepCopy: true },
  vacation: {
    subject: 'Away "until" Monday',
    body: 'Back on Monday.\nBye',
    from: '2026-12-01',
    until: '2026-12-31',
  },
});

describe('generated filter scripts', () => {
  it('compile with our validator and read back into the same settings', () => {
    const script = generateScript(SAMPLE);
    expect(checkScript(script)).toBeNull();
    expect(readScript(script)).toEqual({ kind: 'generated', settings: SAMPLE });
    expect(readScript(script.replace(/\n/g, '\r\n'))).toMatchObject({ kind: 'generated' });
  });

  it('quotes what the user typed, so no text can add commands', () => {
    const tricky = settings({
      filters: [{ conditions: { subject: '" { discard; } if true { "' }, actions: { label: 'a\\"b' } }],
    });
    const script = generateScript(tricky);
    expect(checkScript(script)).toBeNull();
    expect(script).toContain('header :contains "subject" "\\" { discard; } if true { \\""');
    expect(readScript(script)).toEqual({ kind: 'generated', settings: tricky });
  });

  it('tells a script edited by hand, and one never generated', () => {
    const script = generateScript(SAMPLE);
    expect(readScript(script.replace('stop;', 'keep;'))).toMatchObject({ kind: 'edited', settings: SAMPLE });
    expect(readScript('require "fileinto";\nfileinto "x";\n')).toEqual({ kind: 'hand-written' });
    expect(readScript('# mallard-filters-model: {not json\nkeep;\n')).toEqual({ kind: 'hand-written' });
  });

  it('reads a script an earlier version generated differently as untouched (its digest still holds)', () => {
    const script = generateScript(SAMPLE);
    const older = script.replace('# Filter 1: shop', '# Rule 1 (shop)').split('\n');
    const withoutDigest = older.filter((line) => !line.startsWith('# mallard-filters-digest: ')).join('\n');
    const digest = crypto.createHash('sha256').update(withoutDigest).digest('hex');
    const resealed = older.map((line) =>
      line.startsWith('# mallard-filters-digest: ') ? `# mallard-filters-digest: ${digest}` : line,
    );
    expect(readScript(resealed.join('\n'))).toEqual({ kind: 'generated', settings: SAMPLE });
    expect(readScript(older.join('\n'))).toMatchObject({ kind: 'edited' });
    expect(readScript(withoutDigest)).toMatchObject({ kind: 'edited' });
  });

  it('refuses settings that make no sense, with a readable reason', () => {
    const problems = (input: unknown) =>
      filterSettingsSchema
        .safeParse(input)
        .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ filters: [{ conditions: {}, actions: { star: true } }] })).toEqual([
      'filters.0.conditions: a filter needs at least one condition',
    ]);
    expect(problems({ filters: [{ conditions: { from: 'x' }, actions: { star: false } }] })).toEqual([
      'filters.0.actions: a filter needs at least one action',
    ]);
    expect(problems({ forwarding: { address: 'not an address', keepCopy: true } })).toEqual([
      'forwarding.address: must be an email address',
    ]);
    expect(
      problems({ vacation: { subject: 'x', body: 'y', from: '2026-12-10', until: '2026-12-01' } }),
    ).toEqual(['vacation.until: the last day is before the first']);
    expect(problems({ filters: [{ conditions: { subject: 'a\nb' }, actions: { star: true } }] })).toEqual([
      'filters.0.conditions.subject: must be one line',
    ]);
  });

  it('say in a dry run which filters match each message and what would happen', () => {
    const results = dryRun(
      { settings: SAMPLE },
      [
        { uid: 7, raw: NEWSLETTER },
        { uid: 9, raw: FRIEND },
      ],
      'eve@example.test',
      new Date('2026-12-06T12:00:00Z'),
    );
    expect(results).toEqual([
      {
        uid: 7,
        subject: 'Offers of the week',
        from: 'News <news@shop.example>',
        matched: [0, 2],
        actions: expect.any(Array),
        error: null,
      },
      expect.objectContaining({ uid: 9, matched: [1] }),
    ]);
    expect(results[0]!.actions).toEqual([
      'vacation reply: Away "until" Monday',
      'forward to eve@elsewhere.example',
      'file into Shopping (flags \\Seen)',
      'delete',
    ]);
    expect(results[1]!.actions).toEqual([
      'vacation reply: Away "until" Monday',
      'forward to eve@elsewhere.example',
      'keep in INBOX (flags \\Flagged)',
    ]);
  });

  it('runs a raw script in a dry run too, and outside the vacation days replies to no one', () => {
    const [result] = dryRun(
      { script: 'require "fileinto";\nif header :contains "subject" "lunch" { fileinto "Food"; }' },
      [{ uid: 1, raw: FRIEND }],
      'eve@example.test',
    );
    expect(result).toMatchObject({ matched: [], actions: ['file into Food'], error: null });
    const [later] = dryRun(
      { settings: SAMPLE },
      [{ uid: 1, raw: FRIEND }],
      'eve@example.test',
      new Date('2027-01-02T12:00:00Z'),
    );
    expect(later!.actions).not.toContain('vacation reply: Away "until" Monday');
  });
});

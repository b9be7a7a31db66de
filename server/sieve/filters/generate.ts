/**
 * Filter settings → one Sieve script, and back. The script is the only copy: it carries the model
 * as JSON in a comment line, so the page reads back exactly what it wrote, and a script edited by
 * hand afterwards (over ManageSieve, `mallard sieve put`) is recognised as such because it no
 * longer matches the digest written beside the model.
 *
 * Order in the script: the vacation reply first and forwarding next (both apply to all mail, so no
 * filter's "stop" or "delete" may skip them), then the filters in the user's order.
 */
import crypto from 'node:crypto';
import type { Filter, FilterActions, FilterConditions, FilterSettings, Vacation } from './model.ts';
import { filterSettingsSchema } from './model.ts';

/** The name of the script the Filters page owns. */
export const MANAGED_SCRIPT_NAME = 'mallard-filters';

const MARKER = '# mallard-filters-model: ';
/**
 * The SHA-256 of the script without this line: a hand edit shows as a mismatch, while a script a
 * former version generated differently still reads as untouched (so an upgrade is not mistaken
 * for an edit by hand).
 */
const DIGEST = '# mallard-filters-digest: ';

const digestOf = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');
const HEADER = [
  "# Made by Mallard's Filters page (panel, admin API, `mallard filters`, `mallard forward`,",
  '# `mallard vacation`). Change the filters there: edits made here are replaced when they save.',
];

/** A Sieve quoted string (RFC 5228 2.4.2): only the quote and the backslash are escaped. */
export function sieveString(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

function stringList(items: string[]): string {
  return items.length === 1 ? sieveString(items[0]!) : `[${items.map(sieveString).join(', ')}]`;
}

/** One Sieve test per condition given, in a fixed order. */
export function conditionTests(conditions: FilterConditions): string[] {
  const tests: string[] = [];
  if (conditions.from !== undefined)
    tests.push(`address :all :contains "from" ${sieveString(conditions.from)}`);
  if (conditions.to !== undefined)
    tests.push(`address :all :contains ["to", "cc"] ${sieveString(conditions.to)}`);
  if (conditions.subject !== undefined)
    tests.push(`header :contains "subject" ${sieveString(conditions.subject)}`);
  if (conditions.hasWords !== undefined)
    tests.push(`body :text :contains ${sieveString(conditions.hasWords)}`);
  if (conditions.doesNotHave !== undefined)
    tests.push(`not body :text :contains ${sieveString(conditions.doesNotHave)}`);
  if (conditions.largerThan !== undefined) tests.push(`size :over ${conditions.largerThan}`);
  if (conditions.smallerThan !== undefined) tests.push(`size :under ${conditions.smallerThan}`);
  // Without the MIME extension, an attachment is a part whose header says so: its
  // Content-Disposition line is in the raw body of the message.
  if (conditions.hasAttachment === true)
    tests.push('body :raw :contains ["Content-Disposition: attachment", "Content-Disposition:attachment"]');
  if (conditions.hasAttachment === false)
    tests.push(
      'not body :raw :contains ["Content-Disposition: attachment", "Content-Disposition:attachment"]',
    );
  if (conditions.listId !== undefined)
    tests.push(`header :contains "list-id" ${sieveString(conditions.listId)}`);
  return tests;
}

export function combinedTest(tests: string[]): string {
  return tests.length === 1 ? tests[0]! : `allof(${tests.join(',\n      ')})`;
}

function flagsOf(actions: FilterActions): string[] {
  const flags: string[] = [];
  if (actions.markRead) flags.push('\\Seen');
  if (actions.star) flags.push('\\Flagged');
  return flags;
}

/** The commands a matching filter runs. */
export function actionCommands(actions: FilterActions): string[] {
  const commands: string[] = [];
  if (actions.forward !== undefined) commands.push(`redirect :copy ${sieveString(actions.forward)};`);
  if (actions.delete) return [...commands, 'discard;', 'stop;'];
  const flags = flagsOf(actions);
  const withFlags = flags.length > 0 ? ` :flags ${stringList(flags)}` : '';
  if (actions.label !== undefined)
    commands.push(`fileinto :create${withFlags} ${sieveString(actions.label)};`);
  else if (actions.skipInbox)
    commands.push(`fileinto :specialuse "\\\\Archive" :create${withFlags} "Archive";`);
  // The copy in INBOX: the implicit keep does it unless a fileinto above cancelled it, flags are to
  // be set, or the spam step's Junk is to be overruled ("keep" follows the spam verdict; an explicit
  // fileinto "INBOX" does not, see server/delivery/sieve.ts).
  const inboxCopy =
    !actions.skipInbox && (actions.label !== undefined || flags.length > 0 || actions.neverSpam);
  if (inboxCopy) commands.push(actions.neverSpam ? `fileinto${withFlags} "INBOX";` : `keep${withFlags};`);
  if (actions.stop) commands.push('stop;');
  return commands;
}

function vacationCommand(vacation: Vacation): string[] {
  let command = `vacation :days ${vacation.days} :subject ${sieveString(vacation.subject)}`;
  if (vacation.addresses.length > 0) command += ` :addresses ${stringList(vacation.addresses)}`;
  command += ` ${sieveString(vacation.body.replace(/\r\n?/g, '\n'))};`;
  const period: string[] = [];
  if (vacation.from !== undefined)
    period.push(`currentdate :value "ge" "date" ${sieveString(vacation.from)}`);
  if (vacation.until !== undefined)
    period.push(`currentdate :value "le" "date" ${sieveString(vacation.until)}`);
  if (period.length === 0) return ['# Vacation reply', command];
  return [
    "# Vacation reply, on the days given (the server's time zone)",
    `if ${combinedTest(period)} {`,
    `  ${command}`,
    '}',
  ];
}

/** The extensions the generated commands use, for the require line (from the model, not the text). */
function extensionsFor(settings: FilterSettings): string[] {
  const used = new Set<string>();
  const { vacation, forwarding } = settings;
  if (vacation !== null) used.add('vacation');
  if (vacation?.from !== undefined || vacation?.until !== undefined) used.add('date').add('relational');
  if (forwarding?.keepCopy) used.add('copy');
  for (const { conditions, actions } of settings.filters) {
    const { hasWords, doesNotHave, hasAttachment } = conditions;
    if (hasWords !== undefined || doesNotHave !== undefined || hasAttachment !== undefined) used.add('body');
    if (actions.forward !== undefined) used.add('copy');
    if (actions.delete) continue;
    if (actions.label !== undefined || actions.skipInbox) used.add('fileinto').add('mailbox');
    if (actions.label === undefined && actions.skipInbox) used.add('special-use');
    if (actions.neverSpam && !actions.skipInbox) used.add('fileinto');
    if (actions.markRead || actions.star) used.add('imap4flags');
  }
  const order = [
    'fileinto',
    'mailbox',
    'special-use',
    'imap4flags',
    'copy',
    'body',
    'vacation',
    'date',
    'relational',
  ];
  return order.filter((name) => used.has(name));
}

function serializeModel(settings: FilterSettings): string {
  // One line whatever the strings hold (JSON escapes line breaks); U+2028/9 escaped for editors.
  return JSON.stringify(settings)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The managed script for these settings. Deterministic: the same settings give the same text. */
export function generateScript(input: FilterSettings): string {
  const settings = filterSettingsSchema.parse(input);
  const lines: string[] = [];
  if (settings.vacation !== null) lines.push(...vacationCommand(settings.vacation), '');
  if (settings.forwarding !== null) {
    const { address, keepCopy } = settings.forwarding;
    lines.push(
      keepCopy ? '# Forwarding, keeping a copy' : '# Forwarding (no copy kept unless a filter files one)',
      keepCopy ? `redirect :copy ${sieveString(address)};` : `redirect ${sieveString(address)};`,
      '',
    );
  }
  settings.filters.forEach((filter: Filter, index) => {
    const title = filter.name ? `: ${filter.name.replace(/[\r\n]+/g, ' ')}` : '';
    lines.push(`# Filter ${index + 1}${title}`);
    lines.push(`if ${combinedTest(conditionTests(filter.conditions))} {`);
    for (const command of actionCommands(filter.actions)) lines.push(`  ${command}`);
    lines.push('}', '');
  });
  const body = lines.join('\n');
  const extensions = extensionsFor(settings);
  const head = [...HEADER, MARKER + serializeModel(settings)];
  if (extensions.length > 0) head.push(`require ${stringList(extensions)};`);
  const text = `${[...head, ''].join('\n')}\n${body}`.replace(/\n+$/, '\n');
  const marker = text.indexOf(MARKER);
  const afterMarker = text.indexOf('\n', marker) + 1;
  return `${text.slice(0, afterMarker)}${DIGEST}${digestOf(text)}\n${text.slice(afterMarker)}`;
}

/**
 * What a script is to the Filters page: generated from a model and untouched, generated but edited
 * by hand since (the model no longer says what it does), or not generated at all.
 */
export type ScriptOrigin =
  | { kind: 'generated'; settings: FilterSettings }
  | { kind: 'edited'; settings: FilterSettings }
  | { kind: 'hand-written' };

export function readScript(content: string): ScriptOrigin {
  const line = content.split(/\r?\n/).find((text) => text.startsWith(MARKER));
  if (line === undefined) return { kind: 'hand-written' };
  let parsed;
  try {
    parsed = filterSettingsSchema.safeParse(JSON.parse(line.slice(MARKER.length)));
  } catch {
    return { kind: 'hand-written' };
  }
  if (!parsed.success) return { kind: 'hand-written' };
  const lines = content.replace(/\r\n/g, '\n').split('\n');
  const digest = lines.find((text) => text.startsWith(DIGEST))?.slice(DIGEST.length);
  const rest = lines.filter((text) => !text.startsWith(DIGEST)).join('\n');
  return { kind: digest === digestOf(rest) ? 'generated' : 'edited', settings: parsed.data };
}

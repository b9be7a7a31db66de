/**
 * "Test against recent messages": runs filter settings (or any script) over stored messages without
 * doing anything, and says for each message which filters matched and what the script would do.
 * Pure: the caller reads the messages; nothing is filed, sent or remembered (a vacation reply is
 * reported as one the script asks for, before the once-per-sender memory is consulted).
 */
import type { SieveAction } from '../actions.ts';
import { runScripts } from '../interpreter.ts';
import { SieveMessage } from '../message.ts';
import { compileScript, type CompiledScript } from '../script.ts';
import { combinedTest, conditionTests, generateScript } from './generate.ts';
import type { FilterSettings } from './model.ts';

export interface DryRunMessage {
  uid: number;
  raw: Buffer;
}

export interface DryRunResult {
  uid: number;
  subject: string;
  from: string;
  /** Indexes (from 0) of the filters whose conditions hold; [] when a raw script was run. */
  matched: number[];
  /** What the script would do, in words ("file into Lists", "keep in INBOX", "forward to …"). */
  actions: string[];
  /** Set when the script failed on this message (delivery would keep it in INBOX). */
  error: string | null;
}

/** A script that discards when the filter's conditions hold: the way to ask "does it match?". */
function matcherFor(settings: FilterSettings, index: number): CompiledScript {
  const tests = conditionTests(settings.filters[index]!.conditions);
  const needsBody = tests.some((test) => /\bbody :/.test(test));
  return compileScript(`${needsBody ? 'require "body";\n' : ''}if ${combinedTest(tests)} { discard; }\n`);
}

export function describeAction(action: SieveAction): string {
  const flags = 'flags' in action && action.flags.length > 0 ? ` (flags ${action.flags.join(' ')})` : '';
  switch (action.type) {
    case 'keep':
      return `keep in INBOX${flags}`;
    case 'fileinto':
      return `file into ${action.specialUse === '\\Archive' ? 'Archive' : action.mailbox}${flags}`;
    case 'redirect':
      return `forward to ${action.address}`;
    case 'discard':
      return 'delete';
    case 'reject':
      return `reject: ${action.reason}`;
    case 'vacation':
      return `vacation reply${action.subject === null ? '' : `: ${action.subject}`}`;
  }
}

export function dryRun(
  source: { settings: FilterSettings } | { script: string },
  messages: DryRunMessage[],
  envelopeTo: string,
  now = new Date(),
): DryRunResult[] {
  const script = compileScript('settings' in source ? generateScript(source.settings) : source.script);
  const matchers =
    'settings' in source ? source.settings.filters.map((_, index) => matcherFor(source.settings, index)) : [];
  return messages.map(({ uid, raw }) => {
    const message = new SieveMessage(raw);
    const from = message.headerValues('from')[0] ?? '';
    const sender = message.addresses('from')[0]?.[0] ?? '';
    const environment = (current: SieveMessage) => ({
      message: current,
      envelope: { from: sender, to: envelopeTo },
      now,
      mailboxExists: () => true,
      specialUseExists: () => true,
      duplicateSeen: () => false,
    });
    const matched = matchers.flatMap((matcher, index) =>
      runScripts([matcher], environment(new SieveMessage(raw))).implicitKeep === null ? [index] : [],
    );
    const result = runScripts([script], environment(message));
    const actions = result.actions.map(describeAction);
    if (result.implicitKeep !== null)
      actions.push(
        describeAction({
          type: 'keep',
          mailbox: 'INBOX',
          flags: result.implicitKeep.flags,
          create: false,
          specialUse: null,
        }),
      );
    return {
      uid,
      subject: message.headerValues('subject')[0] ?? '',
      from,
      matched,
      actions,
      error: result.error,
    };
  });
}

/**
 * The Sieve oracle: every script of test/oracle/sieve/scripts.ts runs on every message of
 * messages.ts through Pigeonhole's sieve-test (Debian's dovecot-sieve) and through our interpreter;
 * whether the script compiles, whether it fails at run time, the explicit actions (folder, flags,
 * :create, :specialuse, redirect, reject, discard, vacation period/subject/from/handle) and the
 * implicit keep with its flags must be the same. Deliberate differences are in DIFFERENCES, each
 * with why, and a last test fails when an entry is no longer needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileScript,
  runScripts,
  SieveCompileError,
  SieveMessage,
  type SieveResult,
} from '../../server/sieve/index.ts';
import {
  createPigeonhole,
  normalizeFlags,
  pigeonholeAvailable,
  type Pigeonhole,
  type SieveOutcome,
} from '../helpers/pigeonhole.ts';
import { ENVELOPE, MESSAGES } from './sieve/messages.ts';
import { INCLUDES, SCRIPTS } from './sieve/scripts.ts';

const AVAILABLE = pigeonholeAvailable();
if (!AVAILABLE) console.warn('sieve oracle: skipped — sieve-test is missing (apt-get install dovecot-sieve)');

/** "script name" → why our result differs from Pigeonhole's, and what ours is. */
const DIFFERENCES: Record<string, { why: string }> = {};

function normalizeOurs(result: SieveResult): SieveOutcome {
  if (result.error !== null) return { compiled: true, failed: true, actions: [], implicitKeep: null };
  const actions = result.actions.map((action) => {
    switch (action.type) {
      case 'keep':
      case 'fileinto': {
        let text = `store ${action.mailbox} flags=${normalizeFlags(action.flags)}`;
        if (action.create) text += ' create';
        if (action.specialUse !== null) text += ` specialuse=${action.specialUse}`;
        return text;
      }
      case 'redirect':
        return `redirect ${action.address}`;
      case 'reject':
        return `reject ${action.reason}`;
      case 'discard':
        return 'discard';
      case 'vacation':
        return `vacation seconds=${action.seconds} subject=${action.subject ?? '-'} from=${action.from ?? '-'} handle=${action.handle}`;
    }
  });
  // Pigeonhole lists the tracking of a duplicate id as an action, where the test ran.
  for (const entry of [...result.duplicates].reverse())
    actions.splice(entry.afterActions, 0, 'track duplicate');
  const keep = result.implicitKeep;
  return {
    compiled: true,
    failed: false,
    actions,
    implicitKeep: keep === null ? null : `keep flags=${normalizeFlags(keep.flags)}`,
  };
}

function runOurs(script: string, message: Buffer): SieveOutcome {
  const loadScript = (name: string, location: 'personal' | 'global') =>
    INCLUDES[location][name as never] ?? null;
  let compiled;
  try {
    compiled = compileScript(script, { loadScript });
  } catch (error) {
    if (error instanceof SieveCompileError)
      return { compiled: false, failed: false, actions: [], implicitKeep: null };
    throw error;
  }
  const result = runScripts([compiled], {
    message: new SieveMessage(message),
    envelope: ENVELOPE,
    zone: '+0000',
    loadScript,
  });
  // sieve-test prints line breaks in a reason as "?".
  const outcome = normalizeOurs(result);
  return { ...outcome, actions: outcome.actions.map((line) => line.replace(/[\r\n]/g, '?')) };
}

const cases = Object.entries(SCRIPTS).flatMap(([scriptName, script]) =>
  Object.entries(MESSAGES).map(([messageName, message]) => ({ scriptName, messageName, script, message })),
);

describe.skipIf(!AVAILABLE)('Sieve oracle: Pigeonhole sieve-test', () => {
  let pigeonhole: Pigeonhole;
  const used = new Set<string>();

  beforeAll(() => {
    pigeonhole = createPigeonhole(INCLUDES);
  });
  afterAll(() => pigeonhole?.close());

  it('has a corpus of 100+ script × message cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases)('$scriptName × $messageName', ({ scriptName, script, message }) => {
    const theirs = pigeonhole.run(script, message, ENVELOPE);
    const ours = runOurs(script, message);
    if (scriptName in DIFFERENCES) {
      used.add(scriptName);
      expect(ours).not.toEqual(theirs);
      return;
    }
    expect(ours).toEqual(theirs);
  });

  it('lists no difference that no longer happens', () => {
    expect(Object.keys(DIFFERENCES).filter((name) => !used.has(name))).toEqual([]);
  });
});

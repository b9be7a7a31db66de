/**
 * The Sieve oracle: every script of test/oracle/sieve/scripts.ts runs on every message of
 * messages.ts through Pigeonhole's sieve-test (Debian's dovecot-sieve) and through our interpreter;
 * whether the script compiles, whether it fails at run time, the explicit actions (folder, flags,
 * :create, :specialuse, redirect, reject, discard, vacation period/subject/from/handle) and the
 * implicit keep with its flags must be the same. Deliberate differences are in DIFFERENCES, each
 * with why, and a last test fails when an entry is no longer needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileScript, runScripts, SieveCompileError, SieveMessage } from '../../server/sieve/index.ts';
import {
  createPigeonhole,
  normalizeOurs,
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

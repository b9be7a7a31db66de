/**
 * Golden tests: every corpus message is indexed and compared with its checked-in expectation
 * (corpus/<name>.json). Each expectation was reviewed by hand against RFC 3501 (and Dovecot's
 * behaviour where the RFC leaves room). To regenerate after a deliberate change, run with
 * UPDATE_GOLDEN=1 and review the diff before committing it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { indexMessage } from './index.ts';
import { CORPUS_DIR, corpusNames, goldenOf, invariantViolations, readCorpus } from './test-support.ts';

const update = process.env['UPDATE_GOLDEN'] === '1';

describe('golden corpus', () => {
  it('has messages', () => {
    expect(corpusNames().length).toBeGreaterThanOrEqual(15);
  });

  for (const name of corpusNames()) {
    it(name, () => {
      const raw = readCorpus(name);
      const index = indexMessage(raw);
      expect(invariantViolations(raw, index)).toEqual([]);
      const actual = goldenOf(raw, index);
      const file = `${CORPUS_DIR}${name}.json`;
      if (update || !existsSync(file)) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      // The stored index goes through JSON; it must survive that unchanged.
      expect(JSON.parse(JSON.stringify(index))).toEqual(index);
    });
  }
});

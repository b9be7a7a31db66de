import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PanelTotp, RECOVERY_CODES, matchingStep, totpFor } from './totp.ts';

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP verification', () => {
  it.each([
    [59, '287082'], // RFC 6238 vectors, 8 digits 94287082 → the 6 an app shows
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('the RFC 6238 code at %i s is %s', (seconds, code) => {
    const step = Math.floor(seconds / 30);
    expect(matchingStep(RFC_SECRET, code, seconds * 1000)).toBe(step);
  });

  it('accepts the code of the step before and after (clock drift), not two away', () => {
    const at = 1111111109 * 1000;
    const codeAt = (ms: number) => totpFor(RFC_SECRET).generate({ timestamp: ms });
    const step = Math.floor(at / 30_000);
    expect(matchingStep(RFC_SECRET, codeAt(at - 30_000), at)).toBe(step - 1);
    expect(matchingStep(RFC_SECRET, codeAt(at + 30_000), at)).toBe(step + 1);
    expect(matchingStep(RFC_SECRET, codeAt(at - 60_000), at)).toBeNull();
    expect(matchingStep(RFC_SECRET, codeAt(at + 60_000), at)).toBeNull();
  });

  it.each(['', '12345', '1234567', 'abcdef', '28708 ', '２８７０８２'])(
    'refuses the malformed code %j',
    (code) => {
      expect(matchingStep(RFC_SECRET, code, 59_000)).toBeNull();
    },
  );
});

describe('enrolment, replay and recovery codes', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores the secret only once a code matches, never takes a step twice, and each recovery code once', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-totp-'));
    const totp = new PanelTotp(dir);
    expect(totp.enrolled()).toBe(false);
    const { secret, uri } = totp.begin();
    expect(uri).toMatch(/^otpauth:\/\/totp\/Mallard:admin\?/);
    expect(uri).toContain(`secret=${secret}`);
    const now = Date.parse('2026-12-05T12:00:10Z');
    const code = totpFor(secret).generate({ timestamp: now });
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await totp.confirm(wrong, now)).toBeNull();
    expect(totp.enrolled()).toBe(false);

    const codes = (await totp.confirm(code, now))!;
    expect(codes).toHaveLength(RECOVERY_CODES);
    expect(new Set(codes).size).toBe(RECOVERY_CODES);
    expect(totp.enrolled()).toBe(true);
    expect((fs.statSync(totp.file).mode & 0o777).toString(8)).toBe('600');
    const stored = fs.readFileSync(totp.file, 'utf8');
    for (const one of codes) expect(stored).not.toContain(one); // hashed, never in clear

    // The enrolment code's step is used up; the next step's code works once.
    expect(totp.verify(code, now)).toBe(false);
    const later = now + 30_000;
    const next = totpFor(secret).generate({ timestamp: later });
    expect(totp.verify(next, later)).toBe(true);
    expect(totp.verify(next, later)).toBe(false);

    expect(await totp.useRecoveryCode(codes[3]!.toUpperCase())).toBe(true);
    expect(await totp.useRecoveryCode(codes[3]!)).toBe(false);
    expect(await totp.useRecoveryCode('nothi-ngood')).toBe(false);
    expect(totp.recoveryLeft()).toBe(RECOVERY_CODES - 1);
  });
});

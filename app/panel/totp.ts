/**
 * The admin's second factor for the panel over the LAN: a TOTP secret (RFC 6238: SHA-1, 6 digits,
 * 30 s steps, as every authenticator app reads from a QR code) and 10 recovery codes, kept in
 * `<data_dir>/panel-totp.json` (0600). Recovery codes are stored as argon2id hashes with the admin
 * password's settings and each works once.
 *
 * Enrolment takes two steps so that a secret the phone never scanned cannot lock the admin out:
 * `begin()` makes a pending secret (memory only), `confirm(code)` stores it once the app shows a
 * matching code, and returns the recovery codes, the only time they are seen in clear.
 *
 * A code is accepted one step either side of now (clock drift between phone and server), and never
 * twice: the last step used is remembered, so a code seen over someone's shoulder is worthless.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import { HASH_OPTIONS } from './auth.ts';

export const TOTP_FILE = 'panel-totp.json';
export const RECOVERY_CODES = 10;
const PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

interface StoredTotp {
  secret: string; // base32
  lastStep: number;
  recovery: string[]; // argon2id hashes; a used one is removed
  enrolledAt: string;
}

export function totpFor(secretBase32: string, label = 'admin'): TOTP {
  return new TOTP({
    issuer: 'Mallard',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/**
 * The time step a code belongs to, within the window around `now`, or null when it matches none.
 * Pure, so the window is unit-tested at its edges.
 */
export function matchingStep(secretBase32: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return null;
  return Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

/** A recovery code as shown: 10 characters in two groups, from an alphabet without look-alikes. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = crypto.randomBytes(10);
  const chars = [...bytes].map((byte) => alphabet[byte % alphabet.length]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

function normalizeRecovery(code: string): string {
  return code.trim().toLowerCase().replace(/\s+/g, '');
}

export interface Enrolment {
  secret: string;
  /** otpauth://totp/… for the QR code. */
  uri: string;
}

export class PanelTotp {
  private pending: string | null = null;

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return path.join(this.dataDir, TOTP_FILE);
  }

  private read(): StoredTotp | null {
    try {
      const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoredTotp;
      return typeof stored.secret === 'string' && stored.secret ? stored : null;
    } catch {
      return null;
    }
  }

  private write(stored: StoredTotp): void {
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  enrolled(): boolean {
    return this.read() !== null;
  }

  recoveryLeft(): number {
    return this.read()?.recovery.length ?? 0;
  }

  begin(): Enrolment {
    this.pending = new Secret({ size: 20 }).base32;
    return { secret: this.pending, uri: totpFor(this.pending).toString() };
  }

  /** Stores the pending secret when `code` matches it; returns the recovery codes, or null. */
  async confirm(code: string, now = Date.now()): Promise<string[] | null> {
    if (!this.pending) return null;
    const step = matchingStep(this.pending, code.trim(), now);
    if (step === null) return null;
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    const recovery = await Promise.all(codes.map((one) => hash(normalizeRecovery(one), HASH_OPTIONS)));
    this.write({ secret: this.pending, lastStep: step, recovery, enrolledAt: new Date(now).toISOString() });
    this.pending = null;
    return codes;
  }

  /** Checks a code from the app; each time step is accepted once. */
  verify(code: string, now = Date.now()): boolean {
    const stored = this.read();
    if (!stored) return false;
    const step = matchingStep(stored.secret, code.trim(), now);
    if (step === null || step <= stored.lastStep) return false;
    this.write({ ...stored, lastStep: step });
    return true;
  }

  /** Uses up a recovery code: true once per code. */
  async useRecoveryCode(code: string): Promise<boolean> {
    const stored = this.read();
    const given = normalizeRecovery(code);
    if (!stored || given.length === 0 || given.length > 64) return false;
    for (const [index, encoded] of stored.recovery.entries()) {
      if (await verify(encoded, given).catch(() => false)) {
        const recovery = stored.recovery.filter((_, other) => other !== index);
        this.write({ ...this.read()!, recovery });
        return true;
      }
    }
    return false;
  }

  /** Forgets the second factor (LAN logins stop until it is enrolled again). */
  remove(): void {
    fs.rmSync(this.file, { force: true });
    this.pending = null;
  }
}

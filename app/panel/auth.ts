/**
 * Who may use the panel: a session cookie, got with the admin token, the admin password or a
 * one-time login link. The admin password is an argon2id hash in `<data_dir>/panel-password`
 * (0600), set on first run from a logged-in session. Wrong tokens and passwords are throttled per
 * address like the admin API throttles wrong tokens (growing delay, then 429 for a while).
 *
 * Sessions live in memory: restarting the panel logs everyone out, which is the safe direction.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hash, verify } from '@node-rs/argon2';
// Runtime imports from server/ (DESIGN allows app → server types only): the throttle and the token
// comparison are small pure modules, and sharing them keeps the panel's rules the admin API's own.
import { AuthThrottle, type ThrottleOptions } from '../../server/auth/throttle.ts';
import { tokenMatches } from '../../server/admin/token.ts';

export const PASSWORD_FILE = 'panel-password';
export const SESSION_COOKIE = 'mallard_panel';
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1024;
const LOGIN_CODE_TTL_MS = 10 * 60_000;
/** A session unused this long is forgotten. */
const SESSION_IDLE_MS = 12 * 60 * 60_000;

const ARGON2ID = 2; // Algorithm.Argon2id (a const enum tsx cannot inline)
export const HASH_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const DEFAULT_PANEL_THROTTLE: ThrottleOptions = {
  baseDelayMs: 200,
  maxDelayMs: 3000,
  lockoutAfter: 10,
  windowMs: 10 * 60_000,
  lockoutMs: 5 * 60_000,
};

export class PanelAuth {
  private readonly sessions = new Map<string, number>();
  private readonly codes = new Map<string, number>();
  readonly throttle: AuthThrottle;
  readonly throttleOptions: ThrottleOptions;

  constructor(
    private readonly dataDir: string,
    throttle: Partial<ThrottleOptions> = {},
  ) {
    this.throttleOptions = { ...DEFAULT_PANEL_THROTTLE, ...throttle };
    this.throttle = new AuthThrottle(this.throttleOptions);
  }

  get passwordFile(): string {
    return path.join(this.dataDir, PASSWORD_FILE);
  }

  // --- sessions ---

  createSession(): string {
    const id = crypto.randomBytes(32).toString('base64url');
    this.sessions.set(id, Date.now());
    return id;
  }

  /** Whether the cookie value is a live session; touching it keeps it alive. */
  checkSession(id: string | undefined): boolean {
    if (!id) return false;
    const lastSeen = this.sessions.get(id);
    if (lastSeen === undefined) return false;
    if (Date.now() - lastSeen > SESSION_IDLE_MS) {
      this.sessions.delete(id);
      return false;
    }
    this.sessions.set(id, Date.now());
    return true;
  }

  endSession(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  // --- one-time login codes ---

  createLoginCode(): string {
    const now = Date.now();
    for (const [code, expires] of this.codes) if (expires <= now) this.codes.delete(code);
    const code = crypto.randomBytes(24).toString('base64url');
    this.codes.set(code, now + LOGIN_CODE_TTL_MS);
    return code;
  }

  /** Uses up a code: true once, within its lifetime. */
  consumeLoginCode(code: string): boolean {
    const expires = this.codes.get(code);
    if (expires === undefined) return false;
    this.codes.delete(code);
    return expires > Date.now();
  }

  // --- token and password ---

  checkToken(expected: string | null, given: string): boolean {
    return expected !== null && expected !== '' && tokenMatches(expected, given);
  }

  passwordSet(): boolean {
    try {
      return fs.readFileSync(this.passwordFile, 'utf8').trim() !== '';
    } catch {
      return false;
    }
  }

  async checkPassword(given: string): Promise<boolean> {
    let stored: string;
    try {
      stored = fs.readFileSync(this.passwordFile, 'utf8').trim();
    } catch {
      return false;
    }
    if (!stored || given.length > MAX_PASSWORD_LENGTH) return false;
    try {
      return await verify(stored, given);
    } catch {
      return false; // a damaged file never lets anyone in
    }
  }

  /** Validates and stores a new admin password; returns the problem in words when refused. */
  async setPassword(password: unknown): Promise<string | null> {
    if (typeof password !== 'string') return 'password: expected text';
    if ([...password].length < MIN_PASSWORD_LENGTH)
      return `password: at least ${MIN_PASSWORD_LENGTH} characters`;
    if (password.length > MAX_PASSWORD_LENGTH) return `password: at most ${MAX_PASSWORD_LENGTH} characters`;
    const encoded = await hash(password, HASH_OPTIONS);
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a crash never leaves a half-written hash that locks the admin out.
    const temp = `${this.passwordFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${encoded}\n`, { mode: 0o600 });
    fs.renameSync(temp, this.passwordFile);
    return null;
  }
}

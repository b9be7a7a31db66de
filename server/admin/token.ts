/**
 * The admin token: a random bearer token in `<data_dir>/admin.token`, readable by its owner only
 * (0600). Made on first start, read on later ones; `mallard panel` and the Electron app read the
 * same file. A token file with looser permissions is tightened; an empty one gets a new token.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE = 'admin.token';

/** 32 random bytes, base64url: 43 characters, usable in a header and a WebSocket subprotocol. */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function tokenPath(dataDir: string): string {
  return path.join(dataDir, TOKEN_FILE);
}

/** Reads the token from the data directory, creating it (mode 0600) when missing or empty. */
export function loadOrCreateToken(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = tokenPath(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    let existing: string | null = null;
    try {
      existing = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (existing) {
      if (process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      return existing;
    }
    if (existing === '') fs.rmSync(file, { force: true });
    const token = generateToken();
    try {
      // 'wx': two processes starting at once must not both write; the loser reads the winner's.
      fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`cannot create the admin token in ${file}`);
}

/** Compares in constant time (the lengths of the hashes are equal whatever was sent). */
export function tokenMatches(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b);
}

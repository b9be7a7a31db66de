/**
 * Password hashing with argon2id (OWASP's recommended parameters: 19 MiB, 2 passes, 1 lane), and
 * generation of app passwords.
 */
import crypto from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

const ARGON2ID = 2; // Algorithm.Argon2id; the enum is a const enum the isolated TS transpiler cannot inline.
const HASH_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, HASH_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never authenticates
  }
}

/** 16 lower-case letters in four groups, as Gmail shows app passwords: easy to type on a phone. */
export function generateAppPassword(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const chars = Array.from({ length: 16 }, () => letters[crypto.randomInt(letters.length)]);
  return [0, 4, 8, 12].map((start) => chars.slice(start, start + 4).join('')).join(' ');
}

/** App passwords are typed with or without their spaces. */
export function normaliseAppPassword(secret: string): string {
  return secret.replace(/\s+/g, '').toLowerCase();
}

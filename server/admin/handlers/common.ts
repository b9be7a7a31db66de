/** Small pieces the handlers share: path parameter schemas and JSON conversions of store objects. */
import { z } from 'zod';
import type { AppPassword, User } from '../../store/types.ts';
import type { AppPasswordJson, UserJson } from '../schemas.ts';

export const idParam = z.string().min(1).max(128);

export const userIdParams = z.object({ id: idParam });

/** An email address as the CLI accepts one: something@something, no spaces. */
export const EMAIL = /^[^\s@]+@[^\s@]+$/;

export const emailAddress = z
  .string()
  .trim()
  .max(254, 'at most 254 characters')
  .regex(EMAIL, 'an email address (name@domain)');

export const password = z
  .string()
  .min(8, 'at least 8 characters')
  .max(1024, 'at most 1024 characters')
  .describe('never logged, stored only as an argon2id hash');

export function userJson(user: User): UserJson {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    disabled: user.disabled,
    quotaBytes: user.quotaBytes,
    usedBytes: user.usedBytes,
    saveSentCopy: user.saveSentCopy,
    uidOnly: user.uidOnly,
    createdAt: user.createdAt.toISOString(),
  };
}

export function appPasswordJson(appPassword: AppPassword): AppPasswordJson {
  return {
    id: appPassword.id,
    label: appPassword.label,
    createdAt: appPassword.createdAt.toISOString(),
    lastUsedAt: appPassword.lastUsedAt?.toISOString() ?? null,
  };
}

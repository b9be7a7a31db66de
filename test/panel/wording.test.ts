/** The panel's counted wording: one connection, two connections (never "1 connections"). */
import { describe, expect, it } from 'vitest';
import { countOf } from '../../renderer/src/components/format.ts';
import { ruleSummary } from '../../renderer/src/components/rules/kinds.ts';

describe('counted wording', () => {
  it('says one in the singular and the rest in the plural', () => {
    expect(countOf(1, 'connection')).toBe('1 connection');
    expect(countOf(0, 'connection')).toBe('0 connections');
    expect(countOf(2, 'address', 'addresses')).toBe('2 addresses');
  });

  it('summarises rules with a limit of one in the singular', () => {
    const rule = { cidrs: [], windowSeconds: 600 };
    expect(ruleSummary({ ...rule, kind: 'max-conn', limit: 1 })).toBe('more than 1 open connection per IP');
    expect(ruleSummary({ ...rule, kind: 'rate', limit: 1 })).toBe('more than 1 connection per minute per IP');
    expect(ruleSummary({ ...rule, kind: 'rate', limit: 30 })).toBe(
      'more than 30 connections per minute per IP',
    );
    expect(ruleSummary({ ...rule, kind: 'lockout', limit: 1 })).toBe('1 failed login within 10 min');
    expect(ruleSummary({ ...rule, kind: 'lockout', limit: null })).toBe('? failed logins within 10 min');
  });
});

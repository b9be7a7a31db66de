import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, toApiError } from './errors.ts';
import { route, Router } from './router.ts';
import { ROUTES } from './routes.ts';
import { StoreError } from '../store/errors.ts';

const noop = async () => {};
const empty = { status: 204, description: 'x' } as const;

describe('Router', () => {
  const router = new Router([
    route({
      method: 'GET',
      path: '/api/rules/{id}',
      operationId: 'a',
      summary: '',
      tag: 't',
      params: z.object({ id: z.string() }),
      response: empty,
      handler: noop,
    }),
    route({
      method: 'POST',
      path: '/api/rules/test',
      operationId: 'b',
      summary: '',
      tag: 't',
      response: empty,
      handler: noop,
    }),
    route({
      method: 'DELETE',
      path: '/api/rules/{id}',
      operationId: 'c',
      summary: '',
      tag: 't',
      response: empty,
      handler: noop,
    }),
  ]);

  it('prefers literal segments over parameters and decodes parameters', () => {
    const test = router.match('POST', '/api/rules/test');
    expect(test.kind === 'route' && test.route.operationId).toBe('b');
    const byId = router.match('GET', '/api/rules/a%40b');
    expect(byId).toMatchObject({ kind: 'route', params: { id: 'a@b' } });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(router.match('PUT', '/api/rules/7')).toEqual({ kind: 'method', allowed: ['GET', 'DELETE'] });
    expect(router.match('GET', '/api/rules/7/x')).toEqual({ kind: 'none' });
    expect(router.match('GET', '/api/rules/%E0%A4%A')).toEqual({ kind: 'none' });
  });

  it('refuses two routes with the same method and path', () => {
    expect(() => new Router([...ROUTES, ROUTES[0]!])).toThrow(/duplicate route/);
  });

  it('serves routes with unique operation ids', () => {
    const ids = ROUTES.map((entry) => entry.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ROUTES.every((entry) => entry.path.startsWith('/api/'))).toBe(true);
  });
});

describe('toApiError', () => {
  it('maps store errors to API errors and hides everything else', () => {
    expect(toApiError(new StoreError('NONEXISTENT', 'no such user 5')).error).toMatchObject({
      code: 'not_found',
      status: 404,
    });
    expect(toApiError(new StoreError('ALREADYEXISTS', 'taken')).error).toMatchObject({
      code: 'conflict',
      status: 409,
    });
    expect(toApiError(new StoreError('INVALID', 'bad')).error).toMatchObject({
      code: 'validation_failed',
      status: 400,
    });
    expect(toApiError(new StoreError('UNAVAILABLE', 'db down')).error).toMatchObject({
      code: 'internal',
      status: 503,
    });
    const hidden = toApiError(new Error('SQLITE_CORRUPT at /secret/path'));
    expect(hidden.log).toBe(true);
    expect(hidden.error.message).not.toContain('secret');
    expect(hidden.error.message).toContain(hidden.reference!);
    const own = new ApiError('conflict', 'mine');
    expect(toApiError(own)).toEqual({ error: own, log: false });
  });
});

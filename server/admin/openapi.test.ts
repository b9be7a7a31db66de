/**
 * The OpenAPI document stays in step with the router: every route the router serves is described,
 * nothing else is, and every reference resolves.
 */
import { describe, expect, it } from 'vitest';
import { buildOpenApi, EVENTS_PATH } from './openapi.ts';
import { Router } from './router.ts';
import { ROUTES } from './routes.ts';

const document = buildOpenApi(ROUTES);

function operations(): string[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('the OpenAPI document', () => {
  it('describes every route of the router, and only those (plus the event stream)', () => {
    const router = new Router(ROUTES);
    const served = router.routes.map((route) => `${route.method} ${route.path}`);
    expect(operations().sort()).toEqual([...served, `GET ${EVENTS_PATH}`].sort());
    for (const operation of operations()) {
      const [method, path] = operation.split(' ') as [string, string];
      if (path === EVENTS_PATH) continue;
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      const match = router.match(method, concrete);
      expect(match.kind, operation).toBe('route');
    }
  });

  it('names the path parameters of each templated path', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const operation of Object.values(methods)) {
        const parameters = ((operation.parameters ?? []) as Array<{ name: string; in: string }>)
          .filter((parameter) => parameter.in === 'path')
          .map((parameter) => parameter.name);
        expect(parameters.sort()).toEqual(names.sort());
      }
    }
  });

  it('has request bodies, responses and resolvable references', () => {
    const post = document.paths['/api/users']!.post as {
      requestBody: { content: Record<string, { schema: { properties: object } }> };
    };
    expect(Object.keys(post.requestBody.content['application/json']!.schema.properties)).toEqual(
      expect.arrayContaining(['username', 'password', 'generate', 'name', 'quotaBytes']),
    );
    const text = JSON.stringify(document);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(document.components.schemas[name!], name).toBeDefined();
    }
    expect(text).not.toContain('#/$defs/');
    expect(document.components.schemas.Error).toBeDefined();
    expect(document.components.schemas.Event).toBeDefined();
    expect(document.openapi).toBe('3.1.0');
  });
});

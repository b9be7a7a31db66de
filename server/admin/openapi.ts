/**
 * The OpenAPI 3.1 document of the admin API, generated from the router's own route table (zod
 * schemas → JSON Schema with zod 4's `z.toJSONSchema`), so the description cannot drift from the
 * code. Schemas with a `.meta({ id })` become shared components. The WebSocket event stream is
 * described as a GET on /api/events answering 101, with the Event schema of its messages.
 */
import { z } from 'zod';
import { VERSION } from '../version.ts';
import type { Route } from './router.ts';
import { adminEventSchema, errorSchema } from './schemas.ts';

export const EVENTS_PATH = '/api/events';
export const EVENTS_SUBPROTOCOL = 'mallard.events';
export const TOKEN_SUBPROTOCOL_PREFIX = 'mallard.bearer.';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  security: Array<Record<string, string[]>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, JsonSchema> };
  paths: Record<string, Record<string, Record<string, unknown>>>;
}

const DESCRIPTION = `The control API of a Mallard mail server (HTTP + WebSocket, loopback by default).

Every request carries \`Authorization: Bearer <token>\`; the token is in \`admin.token\` in the data
directory, readable by its owner only. The right token always works; wrong tokens are throttled per
client address (a growing delay, then 429 for a while). Errors are JSON: \`{ "error": { "code", "message", "issues"? } }\`.

The event stream \`${EVENTS_PATH}\` is a WebSocket. Clients that can set headers send the same
Authorization header; browsers, which cannot, offer two subprotocols: \`${EVENTS_SUBPROTOCOL}\` and
\`${TOKEN_SUBPROTOCOL_PREFIX}<token>\` (the server selects \`${EVENTS_SUBPROTOCOL}\`; the token is never
echoed). WebSocket upgrades from a web page of another origin are refused. Each message is one JSON
Event; a client that does not keep up is disconnected.`;

class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** JSON Schema of a zod schema, with shared ($defs) parts moved to the components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    delete json.$schema;
    for (const [name, definition] of Object.entries(defs)) this.schemas[name] = relink(definition);
    const linked = relink(json);
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      delete linked.id;
      this.schemas[id] = linked;
      return { $ref: `#/components/schemas/${id}` };
    }
    return linked;
  }
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in a schema. */
function relink(schema: JsonSchema): JsonSchema {
  return JSON.parse(
    JSON.stringify(schema).replace(/"#\/\$defs\/([^"]+)"/g, '"#/components/schemas/$1"'),
  ) as JsonSchema;
}

function objectProperties(json: JsonSchema): { properties: Record<string, JsonSchema>; required: string[] } {
  return {
    properties: (json.properties ?? {}) as Record<string, JsonSchema>,
    required: (json.required ?? []) as string[],
  };
}

const errorRef = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: Route, components: Components): Record<string, unknown> {
  const parameters: unknown[] = [];
  if (route.params) {
    const { properties } = objectProperties(components.convert(route.params, 'input'));
    for (const [name, schema] of Object.entries(properties)) {
      parameters.push({ name, in: 'path', required: true, schema });
    }
  }
  if (route.query) {
    const { properties, required } = objectProperties(components.convert(route.query, 'input'));
    for (const [name, schema] of Object.entries(properties)) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: required.includes(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  const responses: Record<string, unknown> = {};
  const { response } = route;
  if (response.status === 204) {
    responses['204'] = { description: response.description };
  } else if ('schema' in response) {
    responses[String(response.status)] = {
      description: response.description,
      content: { 'application/json': { schema: components.convert(response.schema, 'output') } },
    };
  } else {
    responses['200'] = {
      description: response.description,
      content: { [response.contentType]: { schema: { type: 'string', format: 'binary' } } },
    };
  }
  if (route.params || route.query || route.body)
    responses['400'] = errorRef('Invalid input (validation_failed)');
  responses['401'] = errorRef('Missing or wrong token (unauthorized)');
  if (route.params) responses['404'] = errorRef('Unknown id (not_found)');
  responses['429'] = errorRef('Too many wrong tokens from this address (rate_limited)');
  responses.default = errorRef('Any other error (conflict, not_implemented, internal)');
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: components.convert(route.body, 'input') } },
          },
        }
      : {}),
    ...(route.upload
      ? {
          requestBody: {
            required: true,
            description: route.upload.description,
            content: { [route.upload.contentType]: { schema: { type: 'string', format: 'binary' } } },
          },
        }
      : {}),
    responses,
  };
}

export function buildOpenApi(routes: readonly Route[]): OpenApiDocument {
  const components = new Components();
  components.convert(errorSchema, 'output');
  const eventRef = components.convert(adminEventSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, components);
  }
  paths[EVENTS_PATH] = {
    get: {
      operationId: 'events',
      summary: 'The live event stream (WebSocket)',
      description:
        'Upgrade to a WebSocket. Events: session.opened, session.authenticated, session.command, ' +
        'session.idle, session.updated, session.closed, rule.verdict, auth.alert, delivery, certificate.changed, acme.changed, ' +
        'and a status tick every few seconds (one at once on connect). Each message is one Event.',
      tags: ['Events'],
      parameters: [
        {
          name: 'Sec-WebSocket-Protocol',
          in: 'header',
          required: false,
          description: `For browsers: "${EVENTS_SUBPROTOCOL}, ${TOKEN_SUBPROTOCOL_PREFIX}<token>"`,
          schema: { type: 'string' },
        },
      ],
      responses: {
        '101': { description: 'Switching Protocols: messages follow', 'x-message-schema': eventRef },
        '401': errorRef('Missing or wrong token (unauthorized)'),
        '429': errorRef('Too many wrong tokens from this address (rate_limited)'),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Mallard admin API', version: VERSION, description: DESCRIPTION },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: components.schemas,
    },
    paths,
  };
}

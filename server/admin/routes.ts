/**
 * Every HTTP route of the admin API, in one table: the router dispatches from it and the OpenAPI
 * document is generated from it (the WebSocket /api/events is the one path outside it).
 */
import { acmeRoutes } from './handlers/acme.ts';
import { backupRoutes } from './handlers/backups.ts';
import { aliasRoutes } from './handlers/aliases.ts';
import { appPasswordRoutes } from './handlers/app-passwords.ts';
import { certificateRoutes } from './handlers/certificates.ts';
import { deliveryRoutes } from './handlers/deliveries.ts';
import { dkimRoutes } from './handlers/dkim.ts';
import { filterRoutes } from './handlers/filters.ts';
import { domainRoutes } from './handlers/domains.ts';
import { exportRoutes } from './handlers/export.ts';
import { importRoutes } from './handlers/imports.ts';
import { queueRoutes } from './handlers/queue.ts';
import { ruleRoutes } from './handlers/rules.ts';
import { sessionRoutes } from './handlers/sessions.ts';
import { settingsRoutes } from './handlers/settings.ts';
import { setupRoutes } from './handlers/setup.ts';
import { sieveRoutes } from './handlers/sieve.ts';
import { spamListRoutes } from './handlers/spam-lists.ts';
import { spamSettingsRoutes } from './handlers/spam-settings.ts';
import { statusRoutes } from './handlers/status.ts';
import { userRoutes } from './handlers/users.ts';
import { buildOpenApi, type OpenApiDocument } from './openapi.ts';
import { route, type Route } from './router.ts';
import { z } from 'zod';

let document: OpenApiDocument | null = null;

const openApiRoute = route({
  method: 'GET',
  path: '/api/openapi.json',
  operationId: 'getOpenApi',
  summary: 'This description (OpenAPI 3.1)',
  tag: 'Meta',
  response: {
    status: 200,
    schema: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
    description: 'The OpenAPI document',
  },
  async handler() {
    // Built once, from the same table the router serves.
    return (document ??= buildOpenApi(ROUTES)) as unknown as {
      openapi: string;
      paths: Record<string, unknown>;
    };
  },
});

export const ROUTES: readonly Route[] = [
  ...statusRoutes,
  ...domainRoutes,
  ...userRoutes,
  ...exportRoutes,
  ...importRoutes,
  ...aliasRoutes,
  ...appPasswordRoutes,
  ...spamListRoutes,
  ...sieveRoutes,
  ...filterRoutes,
  ...spamSettingsRoutes,
  ...ruleRoutes,
  ...sessionRoutes,
  ...certificateRoutes,
  ...acmeRoutes,
  ...backupRoutes,
  ...queueRoutes,
  ...deliveryRoutes,
  ...dkimRoutes,
  ...settingsRoutes,
  ...setupRoutes,
  openApiRoute,
];

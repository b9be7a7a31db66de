/**
 * Import jobs of a user (server/import/jobs.ts): start one from another server, follow its
 * progress, cancel it, re-run it for what arrived since, forget it. The source password is held in
 * the server's memory only, and after the job only when `keepPassword` asked for it. Or upload a
 * file (mbox, zip, tar): streamed to a directory of its own under the data directory, at most
 * `limits.max_import_upload` bytes, then imported by a job like the others.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { defaultPort } from '../../import/source.ts';
import { JobError, type ImportJobs } from '../../import/jobs.ts';
import type { AdminDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { route } from '../router.ts';
import { userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const TAG = 'Imports';

const jobSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    kind: z.enum(['imap', 'file']),
    source: z
      .object({
        host: z.string(),
        port: z.number(),
        security: z.enum(['tls', 'starttls', 'plain']),
        login: z.string(),
      })
      .nullable()
      .describe('the IMAP source; null for an uploaded file'),
    file: z
      .object({ name: z.string(), bytes: z.number() })
      .nullable()
      .describe('the uploaded file; null for an IMAP source'),
    state: z.enum(['running', 'done', 'failed', 'cancelled']),
    passwordKept: z.boolean(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    messages: z.object({ total: z.number(), done: z.number(), imported: z.number(), duplicates: z.number() }),
    bytes: z.object({ total: z.number(), done: z.number() }),
    etaSeconds: z.number().nullable(),
    skipped: z.array(z.object({ folder: z.string(), uid: z.number().nullable(), reason: z.string() })),
    error: z.string().nullable(),
  })
  .meta({ id: 'ImportJob' });

const startBody = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).optional(),
  security: z.enum(['tls', 'starttls', 'plain']).default('tls'),
  login: z.string().min(1).max(320),
  password: z.string().min(1).max(1024).describe('the source password or app password (Gmail, Outlook.com)'),
  folders: z
    .array(z.string().min(1))
    .max(1000)
    .optional()
    .describe("only these source folders (the source's names)"),
  includeAllMail: z
    .boolean()
    .default(false)
    .describe("Gmail's All Mail too (else skipped: its mail is in other folders)"),
  keepPassword: z.boolean().default(false).describe('keep the password in memory after the job, for re-runs'),
  maxRate: z.number().positive().max(10_000).optional().describe('messages per second at most'),
});

const uploadQuery = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .describe('the file name: an mbox (its folder is named after it), or a .zip, .tar, .tar.gz of mail'),
});

const jobParams = z.object({ jobId: z.string().min(1).max(100) });
const rerunBody = z.object({ password: z.string().max(1024).optional() });

function jobsOf(deps: AdminDeps): ImportJobs {
  if (!deps.imports) throw new ApiError('not_implemented', 'IMAP import jobs do not run in this process');
  return deps.imports;
}

/** JobError → the API's codes. */
function jobCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof JobError) {
      const code = error.kind === 'validation' ? 'validation_failed' : error.kind;
      throw new ApiError(code, error.message);
    }
    throw error;
  }
}

/** The uploaded file's name, kept (it names a single mbox's folder) but never a path. */
function uploadName(name: string): string {
  const base = name
    .split(/[/\\]/)
    .pop()!
    .replace(/[\p{Cc}]/gu, '')
    .replace(/^\.+/, '')
    .trim();
  return base === '' ? 'upload' : base;
}

function tooLarge(limit: number): ApiError {
  return new ApiError(
    'validation_failed',
    `the file is larger than ${limit} bytes (limits.max_import_upload)`,
    undefined,
    413,
  );
}

/** Streams the request body into `file`, refusing it past `limit` bytes; returns its size. */
async function receive(request: IncomingMessage, file: string, limit: number): Promise<number> {
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(bytes > limit ? tooLarge(limit) : null, chunk);
    },
  });
  await pipeline(request, counted, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return bytes;
}

export const importRoutes = [
  route({
    method: 'POST',
    path: '/api/users/{id}/imports',
    operationId: 'startImport',
    summary: 'Start importing mail from another IMAP server into this user',
    tag: TAG,
    params: userIdParams,
    body: startBody,
    response: { status: 201, schema: jobSchema, description: 'The job, running' },
    async handler({ params, body, deps }) {
      const user = await requireUser(deps.store, params.id);
      return jobCall(() =>
        jobsOf(deps).start(user.id, {
          source: {
            host: body.host,
            port: body.port ?? defaultPort(body.security),
            security: body.security,
            login: body.login,
            password: body.password,
          },
          folders: body.folders,
          includeAllMail: body.includeAllMail,
          keepPassword: body.keepPassword,
          maxRate: body.maxRate,
        }),
      );
    },
  }),
  route({
    method: 'POST',
    path: '/api/users/{id}/imports/upload',
    operationId: 'uploadImport',
    summary: 'Upload an mbox, .zip, .tar or .tar.gz of mail and import it into this user',
    tag: TAG,
    params: userIdParams,
    query: uploadQuery,
    upload: {
      contentType: 'application/octet-stream',
      description: 'the file, as it is (at most limits.max_import_upload bytes)',
    },
    response: { status: 201, schema: jobSchema, description: 'The job, running' },
    async handler({ params, query, deps, request }) {
      const user = await requireUser(deps.store, params.id);
      const jobs = jobsOf(deps);
      jobCall(() => jobs.requireIdle(user.id));
      const limit = deps.config.limits.max_import_upload;
      if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
      const uploads = path.join(deps.config.data_dir, 'uploads');
      await fsp.mkdir(uploads, { recursive: true, mode: 0o700 });
      const dir = await fsp.mkdtemp(path.join(uploads, 'import-'));
      try {
        const file = path.join(dir, uploadName(query.name));
        const bytes = await receive(request, file, limit);
        if (bytes === 0) throw new ApiError('validation_failed', 'the file is empty');
        return jobCall(() => jobs.start(user.id, { file, dir, name: query.name, bytes }));
      } catch (error) {
        await fsp.rm(dir, { recursive: true, force: true });
        throw error;
      }
    },
  }),
  route({
    method: 'GET',
    path: '/api/users/{id}/imports',
    operationId: 'listImports',
    summary: "A user's import jobs, newest first, with progress and what was skipped",
    tag: TAG,
    params: userIdParams,
    response: { status: 200, schema: z.object({ jobs: z.array(jobSchema) }), description: 'The jobs' },
    async handler({ params, deps }) {
      const user = await requireUser(deps.store, params.id);
      return { jobs: jobsOf(deps).list(user.id) };
    },
  }),
  route({
    method: 'POST',
    path: '/api/imports/{jobId}/cancel',
    operationId: 'cancelImport',
    summary: 'Stop a running import (what was imported stays; a re-run goes on from there)',
    tag: TAG,
    params: jobParams,
    response: { status: 200, schema: jobSchema, description: 'The job' },
    async handler({ params, deps }) {
      return jobCall(() => jobsOf(deps).cancel(params.jobId));
    },
  }),
  route({
    method: 'POST',
    path: '/api/imports/{jobId}/rerun',
    operationId: 'rerunImport',
    summary: 'Run an import again: only what is new at the source is fetched',
    tag: TAG,
    params: jobParams,
    body: rerunBody,
    response: { status: 201, schema: jobSchema, description: 'The new job, running' },
    async handler({ params, body, deps }) {
      return jobCall(() => jobsOf(deps).rerun(params.jobId, body.password));
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/imports/{jobId}',
    operationId: 'removeImport',
    summary: 'Forget a finished import job (and its kept password)',
    tag: TAG,
    params: jobParams,
    response: { status: 204, description: 'Forgotten' },
    async handler({ params, deps }) {
      jobCall(() => jobsOf(deps).remove(params.jobId));
    },
  }),
];

/**
 * A user's mail as a download: a tar of mbox files or of a Maildir (server/export/), streamed as
 * it is read, so an account of any size downloads with the memory of one batch of bodies.
 */
import { z } from 'zod';
import { ExportError, exportFileName, exportMail, mailboxesToExport } from '../../export/export.ts';
import { notFound } from '../errors.ts';
import { route, type StreamReply } from '../router.ts';
import { userIdParams } from './common.ts';
import { requireUser } from './users.ts';

const exportQuery = z.object({
  format: z.enum(['mbox', 'maildir']).describe('mbox: one mboxrd file per folder; maildir: a Maildir++ tree'),
  mailbox: z.string().min(1).max(1000).optional().describe('only this mailbox (its path)'),
});

export const exportRoutes = [
  route({
    method: 'GET',
    path: '/api/users/{id}/export',
    operationId: 'exportUserMail',
    summary: "Download a user's mail (or one mailbox) as a tar of mbox files or of a Maildir",
    tag: 'Users',
    params: userIdParams,
    query: exportQuery,
    response: { status: 200, contentType: 'application/x-tar', description: 'The tar, streamed' },
    async handler({ params, query, deps }): Promise<StreamReply> {
      const user = await requireUser(deps.store, params.id);
      try {
        await mailboxesToExport(deps.store, user, query.mailbox);
      } catch (error) {
        if (error instanceof ExportError) throw notFound(`mailbox ${query.mailbox}`);
        throw error;
      }
      return {
        filename: exportFileName(user.username, query.format, query.mailbox),
        write: (out) => exportMail(deps.store, user, { format: query.format, mailbox: query.mailbox }, out),
      };
    },
  }),
];

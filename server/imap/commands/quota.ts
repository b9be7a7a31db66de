/**
 * QUOTA (RFC 2087, RFC 9208): one quota root, "", holding the user's STORAGE in KiB. A user
 * without a limit (quota 0) has no quota root at all: GETQUOTAROOT lists none, and GETQUOTA ""
 * answers NO, as RFC 9208's grammar has no way to say "unlimited" (Dovecot also leaves unlimited
 * resources out). SETQUOTA is refused: quotas are set by the administrator.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import { no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import type { GetQuotaCommand, MailboxCommand, SetQuotaCommand } from '../parser/index.ts';
import type { Quota } from '../../store/types.ts';

const ROOT = '';
const KIB = 1024;

async function userQuota(ctx: ImapContext): Promise<Quota> {
  return ctx.services.store.getQuota(ctx.session.user!.id);
}

/** `* QUOTA "" (STORAGE used limit)`; usage rounded up so a few bytes never show as 0. */
function appendQuota(builder: ResponseBuilder, quota: Quota): ResponseBuilder {
  const used = Math.ceil(quota.usedBytes / KIB);
  const limit = Math.ceil(quota.limitBytes / KIB);
  return builder.untagged().text('QUOTA ').string(ROOT).text(` (STORAGE ${used} ${limit})`).crlf();
}

export const getQuotaRoot: CommandHandler<MailboxCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const mailbox = await ctx.services.store.getMailbox(
      ctx.session.user!.id,
      mailboxFromWire(ctx, command.mailbox),
    );
    if (!mailbox) throw no('NONEXISTENT', 'No such mailbox');
    const quota = await userQuota(ctx);
    const builder = ctx.builder().untagged().text('QUOTAROOT ').mailbox(mailbox.path);
    if (quota.limitBytes > 0) appendQuota(builder.sp().string(ROOT).crlf(), quota);
    else builder.crlf();
    await ctx.write(builder);
  },
};

export const getQuota: CommandHandler<GetQuotaCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    if (command.root !== ROOT) throw no('NONEXISTENT', 'No such quota root');
    const quota = await userQuota(ctx);
    if (quota.limitBytes <= 0) throw no('NONEXISTENT', 'No quota limit applies to this account');
    await ctx.write(appendQuota(ctx.builder(), quota));
  },
};

export const setQuota: CommandHandler<SetQuotaCommand> = {
  states: ['authenticated', 'selected'],
  async run() {
    throw no('NOPERM', 'Quotas are set by the administrator');
  },
};

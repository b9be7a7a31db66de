/**
 * The spam inbound check (server/inbound/types.ts), run after sender authentication: incoming
 * X-Spam-* fields removed, a score from rspamd (when spam.rspamd_url is set and it answers) or from
 * the own checks (score.ts), an action by the thresholds, the recipients' allow and block lists,
 * and X-Spam-* fields for the stored copies.
 *
 * - score ≥ spam.reject_score (or rspamd says "reject") → 550 5.7.1 at the end of DATA;
 *   ≥ spam.junk_score (or rspamd says "add header"/"rewrite subject") → Junk.
 *   rspamd's "soft reject" (its own greylisting or rate limits) → 451 4.7.1.
 * - A recipient's allow list beats any spam verdict for that recipient (not the DMARC policy: that
 *   is the auth check's, and the strongest action of all checks wins). A message refused as spam
 *   that one recipient allows is filed as Junk for the others instead (one reply covers all).
 * - A block list files the message into that recipient's Junk: refusing would tell the sender, and
 *   could not spare the other recipients; the user finds it in Junk if the entry was a mistake.
 */
import type { CheckOutcome, InboundAction, InboundCheck, InboundMessage } from '../inbound/types.ts';
import type { AuthResults } from '../inbound/auth/verify.ts';
import type { Logger } from '../log.ts';
import { reply, type Reply } from '../smtp/replies.ts';
import type { Store } from '../store/types.ts';
import type { Dnsbl } from './dnsbl.ts';
import { spamHeaders, withoutSpamHeaders } from './headers.ts';
import { listDecision, sendersOf, type ListDecision } from './lists.ts';
import type { RspamdClient } from './rspamd.ts';
import { ownScore } from './score.ts';

export interface SpamCheckOptions {
  store: Store;
  /** rspamd (null: own checks only). */
  rspamd: RspamdClient | null;
  /** DNS blocklists for the own checks (null: none). */
  dnsbl: Dnsbl | null;
  dnsblScore: number;
  junkScore: number;
  rejectScore: number;
  log: Logger;
}

export const spamRejection = reply(550, '5.7.1', 'Message refused as spam');
export const spamTryLater = reply(451, '4.7.1', 'Try again later');

/** What the scanner concluded, before the lists. */
interface Scored {
  score: number;
  scanner: 'rspamd' | 'mallard';
  tests: string[];
  action: InboundAction;
  reply?: Reply;
  note?: string;
}

const STRENGTH: Record<InboundAction, number> = { accept: 0, junk: 1, reject: 2 };

function byThresholds(score: number, options: SpamCheckOptions): InboundAction {
  if (score >= options.rejectScore) return 'reject';
  if (score >= options.junkScore) return 'junk';
  return 'accept';
}

function stronger(a: InboundAction, b: InboundAction): InboundAction {
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

async function scanWithRspamd(
  rspamd: RspamdClient,
  input: InboundMessage,
  message: Buffer,
  options: SpamCheckOptions,
): Promise<Scored> {
  const scan = await rspamd.scan(message, {
    clientIp: input.clientIp,
    helo: input.helo,
    reverseName: input.reverseName,
    mailFrom: input.mailFrom,
    rcpts: input.rcpts,
    queueId: input.transactionId,
  });
  const scored: Scored = {
    score: scan.score,
    scanner: 'rspamd',
    tests: scan.symbols,
    action: byThresholds(scan.score, options),
  };
  if (scan.action === 'reject') scored.action = 'reject';
  else if (scan.action === 'add header' || scan.action === 'rewrite subject')
    scored.action = stronger(scored.action, 'junk');
  else if (scan.action === 'soft reject' && scored.action !== 'reject') {
    scored.action = 'reject';
    scored.reply = spamTryLater;
  }
  return scored;
}

async function scanOwn(
  input: InboundMessage,
  message: Buffer,
  auth: AuthResults | undefined,
  options: SpamCheckOptions,
): Promise<Scored> {
  const listings = options.dnsbl ? await options.dnsbl.listings(input.clientIp) : [];
  const own = ownScore({ message, listings, dnsblScore: options.dnsblScore, auth });
  return {
    score: own.score,
    scanner: 'mallard',
    tests: own.rules.map((rule) => rule.name),
    action: byThresholds(own.score, options),
  };
}

async function scan(
  input: InboundMessage,
  message: Buffer,
  auth: AuthResults | undefined,
  options: SpamCheckOptions,
): Promise<Scored> {
  if (options.rspamd?.scans) {
    try {
      return await scanWithRspamd(options.rspamd, input, message, options);
    } catch (error) {
      // rspamd down must not hold mail up: the own checks stand in, and the log says so.
      options.log.warn(
        { err: error, id: input.transactionId },
        'rspamd did not answer; own spam checks used',
      );
      return { ...(await scanOwn(input, message, auth, options)), note: 'rspamd unavailable' };
    }
  }
  return scanOwn(input, message, auth, options);
}

/** Each recipient's list decision (null: not on a list), by recipient address. */
async function decisionsOf(
  store: Store,
  rcpts: readonly string[],
  senders: string[],
): Promise<Map<string, ListDecision | null>> {
  const decisions = new Map<string, ListDecision | null>();
  for (const rcpt of rcpts) {
    const user = await store.resolveRecipient(rcpt);
    const entries = user ? await store.listSpamEntries(user.id) : [];
    decisions.set(rcpt, listDecision(entries, senders));
  }
  return decisions;
}

/** One recipient's action from the scanner's and its list's, and the word for X-Spam-Status. */
function recipientAction(
  scored: InboundAction,
  decision: ListDecision | null,
  someoneAllows: boolean,
): InboundAction {
  if (decision?.list === 'allow') return 'accept';
  if (decision?.list === 'block') return scored === 'reject' && !someoneAllows ? 'reject' : 'junk';
  // A refusal cannot spare the recipient that allows the sender: the others get it as Junk.
  return scored === 'reject' && someoneAllows ? 'junk' : scored;
}

export function spamCheck(options: SpamCheckOptions): InboundCheck {
  return {
    name: 'spam',
    async check(input, earlier): Promise<CheckOutcome> {
      const message = withoutSpamHeaders(input.message);
      const decisions = await decisionsOf(options.store, input.rcpts, sendersOf(input.mailFrom, message));
      const lists = [...decisions.values()];
      const everyoneAllows = lists.length > 0 && lists.every((decision) => decision?.list === 'allow');
      const auth = earlier.get('auth')?.facts?.auth as AuthResults | undefined;
      // Mail every recipient allows is not scanned at all.
      const scored: Scored = everyoneAllows
        ? { score: 0, scanner: 'mallard', tests: ['ALLOWED'], action: 'accept' }
        : await scan(input, message, auth, options);
      const someoneAllows = lists.some((decision) => decision?.list === 'allow');
      const actions = new Map<string, InboundAction>();
      for (const [rcpt, decision] of decisions)
        actions.set(rcpt, recipientAction(scored.action, decision, someoneAllows));
      const action = [...actions.values()].reduce(stronger, 'accept' as InboundAction);
      const reasons = [
        `spam: score ${scored.score.toFixed(1)} by ${scored.scanner}${scored.note ? ` (${scored.note})` : ''}` +
          (scored.tests.length > 0 ? ` [${scored.tests.slice(0, 8).join(' ')}]` : '') +
          ` → ${scored.action}`,
      ];
      for (const [rcpt, decision] of decisions) {
        if (decision) reasons.push(`spam: ${decision.pattern} on ${rcpt}'s ${decision.list} list`);
      }
      const listed = lists.some((decision) => decision !== null);
      return {
        message,
        headers: spamHeaders({
          // The scanner's verdict: a recipient's list decides where its copy goes, not what it is.
          spam: scored.action !== 'accept',
          score: scored.score,
          required: options.junkScore,
          action: everyoneAllows ? 'allowed' : scored.action,
          scanner: scored.scanner,
          tests: scored.tests,
        }),
        action,
        reply: action === 'reject' ? (scored.reply ?? spamRejection) : undefined,
        reasons,
        recipientActions: listed ? actions : undefined,
        facts: { spam: { score: scored.score, scanner: scored.scanner, tests: scored.tests } },
      };
    },
  };
}

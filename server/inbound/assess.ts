/**
 * Runs the inbound checks in order and combines what they say: the strongest action wins
 * (reject > junk > accept), the first rejecting check's reply is sent, header fields and reasons
 * add up in check order.
 */
import type { Logger } from '../log.ts';
import { reply } from '../smtp/replies.ts';
import type { CheckOutcome, InboundAction, InboundCheck, InboundMessage, InboundVerdict } from './types.ts';

const STRENGTH: Record<InboundAction, number> = { accept: 0, junk: 1, reject: 2 };

/** Refused by policy (RFC 3463 X.7.1), when a rejecting check gives no reply of its own. */
export const policyRejection = reply(550, '5.7.1', 'Message refused by policy');

export async function assessMessage(
  checks: readonly InboundCheck[],
  input: InboundMessage,
  log: Logger,
): Promise<InboundVerdict> {
  const outcomes = new Map<string, CheckOutcome>();
  const verdict: InboundVerdict = {
    action: 'accept',
    prependHeaders: '',
    reasons: [],
    message: input.message,
  };
  for (const check of checks) {
    let outcome: CheckOutcome;
    try {
      outcome = await check.check({ ...input, message: verdict.message }, outcomes);
    } catch (error) {
      // A broken check must not lose mail: it is skipped, and said so.
      log.error({ err: error, check: check.name, id: input.transactionId }, 'inbound check failed');
      verdict.reasons.push(`${check.name}: check failed`);
      continue;
    }
    outcomes.set(check.name, outcome);
    if (outcome.message) verdict.message = outcome.message;
    if (outcome.headers) verdict.prependHeaders += outcome.headers;
    if (outcome.reasons) verdict.reasons.push(...outcome.reasons);
    const action = outcome.action ?? 'accept';
    if (STRENGTH[action] > STRENGTH[verdict.action]) {
      verdict.action = action;
      if (action === 'reject') verdict.reply = outcome.reply ?? policyRejection;
    }
  }
  if (verdict.action !== 'reject') verdict.recipientActions = recipientActionsOf(input.rcpts, outcomes);
  return verdict;
}

/**
 * Each recipient's action, when some check decided per recipient: the strongest of every check's
 * action for it (its per-recipient one where it gave one). Undefined when none did.
 */
function recipientActionsOf(
  rcpts: readonly string[],
  outcomes: ReadonlyMap<string, CheckOutcome>,
): Map<string, InboundAction> | undefined {
  const all = [...outcomes.values()];
  if (!all.some((outcome) => outcome.recipientActions)) return undefined;
  const actions = new Map<string, InboundAction>();
  for (const rcpt of rcpts) {
    let action: InboundAction = 'accept';
    for (const outcome of all) {
      const own = outcome.recipientActions?.get(rcpt) ?? outcome.action ?? 'accept';
      if (STRENGTH[own] > STRENGTH[action]) action = own;
    }
    actions.set(rcpt, action);
  }
  return actions;
}

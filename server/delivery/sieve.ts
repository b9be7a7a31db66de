/**
 * The user's Sieve script at delivery, the step between the trace header fields and the store
 * (DESIGN.md, delivery pipeline), for every path that delivers to a local user: LMTP, SMTP in,
 * submission to local users and `mallard deliver`.
 *
 * The active script runs on the copy for one recipient; its actions are then carried out: copies
 * filed into mailboxes (made with :create; a missing one falls back to INBOX), with flags; redirects
 * (to a local user: stored for them directly, without their script, so two scripts cannot bounce a
 * message between them; else through the outbound queue); vacation replies, once per sender and
 * period, never to lists, bulk or automatic mail; rejects, refused in the SMTP/LMTP dialogue when the
 * caller can (550 5.7.1), else answered with a refusal message. A script that does not compile or
 * fails at run time leaves the message in INBOX and the reason in the log: mail is never lost to a
 * broken script.
 */
import fs from 'node:fs';
import { StoreError, isStoreError } from '../store/errors.ts';
import type { DeliveryResult, Mailbox, SpecialUse, Store, User } from '../store/types.ts';
import {
  compileScript,
  messageWithHeaders,
  runScripts,
  SieveMessage,
  type CompiledScript,
  type SieveResult,
  type StoreAction,
} from '../sieve/index.ts';
import { buildRefusal, buildVacationReply, vacationRefusal } from './auto-reply.ts';
import { junkMailboxOf } from './junk.ts';

/** Thrown when the script rejects and the caller may refuse in the dialogue: 550 5.7.1 reason. */
export class SieveRejection extends Error {
  constructor(
    readonly reason: string,
    readonly extended: boolean,
  ) {
    super(reason);
    this.name = 'SieveRejection';
  }
}

/** The part of a logger delivery uses here (pino's, or standard error for `mallard deliver`). */
export interface SieveLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SieveDelivery {
  store: Store;
  log: SieveLog;
  hostname: string;
  /** The address the message came to. */
  recipient: string;
  /** MAIL FROM; "" for the null sender. */
  sender: string;
  /** The copy for this recipient, trace header fields included. */
  raw: Buffer;
  /** File into Junk instead of INBOX what the script keeps (an inbound check's verdict). */
  junk?: boolean;
  /** Whether a reject may become a refusal in the dialogue (else a refusal message is sent). */
  canRefuse?: boolean;
  /** Scripts the administrator runs before the user's (Pigeonhole's sieve_before). */
  before?: CompiledScript[];
  now?: Date;
}

const adminCache = new Map<string, { mtimeMs: number; scripts: CompiledScript[] }>();

/**
 * The administrator's script (inbound.sieve_before) compiled, re-read when the file changes. One
 * that cannot be read or does not compile is left out with a warning: the user's script still runs.
 */
export function adminScripts(file: string, log: SieveLog): CompiledScript[] {
  if (file === '') return [];
  try {
    const { mtimeMs } = fs.statSync(file);
    const cached = adminCache.get(file);
    if (cached?.mtimeMs === mtimeMs) return cached.scripts;
    const scripts = [compileScript(fs.readFileSync(file, 'utf8'))];
    adminCache.set(file, { mtimeMs, scripts });
    return scripts;
  } catch (error) {
    log.warn({ file, reason: (error as Error).message }, 'inbound.sieve_before not used');
    return [];
  }
}

/** What became of the message: the first copy stored (uid 0 when the script stored none). */
export interface SieveOutcome extends DeliveryResult {
  /** The mailboxes it was stored into, for the log. */
  mailboxes: string[];
  /** Why the script was not followed (it does not compile, or it failed), when so. */
  scriptError: string | null;
}

/** The duplicate ids a run asked about, answered from the store before the (synchronous) run. */
async function runWithMemory(
  store: Store,
  user: User,
  scripts: CompiledScript[],
  message: () => SieveMessage,
  envelope: { from: string; to: string },
  mailboxes: Mailbox[],
  now: Date,
): Promise<{ result: SieveResult; message: SieveMessage }> {
  const known = new Map<string, boolean>();
  // A run that asks about ids not known yet is run again once they are: the script is pure, so
  // the second run takes the same path with the right answers (two passes for any script).
  for (let pass = 0; ; pass++) {
    const asked = new Set<string>();
    const current = message();
    const result = runScripts(scripts, {
      message: current,
      envelope,
      now,
      mailboxExists: (name) => mailboxes.some((mailbox) => sameName(mailbox.path, name)),
      specialUseExists: (name, flags) =>
        flags.every((flag) =>
          mailboxes.some(
            (mailbox) =>
              mailbox.specialUse?.toLowerCase() === flag.toLowerCase() &&
              (name === null || sameName(mailbox.path, name)),
          ),
        ),
      duplicateSeen: (id) => {
        if (!known.has(id)) asked.add(id);
        return known.get(id) ?? false;
      },
    });
    if (asked.size === 0 || pass >= 2) return { result, message: current };
    for (const id of asked) known.set(id, await store.hasSieveMemory(user.id, `duplicate:${id}`, now));
  }
}

function sameName(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

/** The user's active script compiled, or the reason it cannot be used. */
async function userScript(store: Store, user: User): Promise<CompiledScript | string | null> {
  const active = await store.getActiveSieveScript(user.id);
  if (active === null) return null;
  try {
    return compileScript(active.content);
  } catch (error) {
    return `script "${active.name}" does not compile: ${(error as Error).message}`;
  }
}

/**
 * Delivers one recipient's copy through their Sieve script. Without an active script (and no admin
 * script) this is store.deliver. NONEXISTENT for an unknown recipient, as store.deliver.
 */
export async function deliverWithSieve(delivery: SieveDelivery): Promise<SieveOutcome> {
  const { store, recipient, raw, log } = delivery;
  const user = await store.resolveRecipient(recipient);
  if (!user) throw new StoreError('NONEXISTENT', `no recipient ${recipient}`);
  if (user.disabled) throw new StoreError('CANNOT', `user ${user.username} is disabled`);
  const script = await userScript(store, user);
  const before = delivery.before ?? [];
  if (script === null && before.length === 0) return keepOnly(delivery, user, null);
  if (typeof script === 'string') {
    log.warn({ rcpt: recipient, reason: script }, 'Sieve script not run; message kept in INBOX');
    return keepOnly(delivery, user, script);
  }
  const now = delivery.now ?? new Date();
  const mailboxes = await store.listMailboxes(user.id);
  const scripts = script === null ? before : [...before, script];
  const { result, message } = await runWithMemory(
    store,
    user,
    scripts,
    () => new SieveMessage(raw),
    { from: delivery.sender, to: recipient },
    mailboxes,
    now,
  );
  if (result.error !== null) {
    log.warn({ rcpt: recipient, reason: result.error }, 'Sieve script failed; message kept in INBOX');
    return keepOnly(delivery, user, result.error);
  }
  return carryOut(delivery, user, result, message, mailboxes, now);
}

async function keepOnly(
  delivery: SieveDelivery,
  user: User,
  scriptError: string | null,
): Promise<SieveOutcome> {
  const mailbox = delivery.junk ? await junkMailboxOf(delivery.store, user) : null;
  const stored = mailbox
    ? await delivery.store.append(mailbox.id, delivery.raw)
    : await delivery.store.deliver(delivery.recipient, delivery.raw);
  return { ...stored, userId: user.id, mailboxes: [mailbox?.path ?? 'INBOX'], scriptError };
}

async function carryOut(
  delivery: SieveDelivery,
  user: User,
  result: SieveResult,
  message: SieveMessage,
  mailboxes: Mailbox[],
  now: Date,
): Promise<SieveOutcome> {
  const { store, log, recipient, sender } = delivery;
  const rejection = result.actions.find((action) => action.type === 'reject');
  if (rejection?.type === 'reject') {
    if (delivery.canRefuse) throw new SieveRejection(rejection.reason, rejection.extended);
    await sendRefusal(delivery, user, rejection.reason, message);
  }
  const raw = result.headerEdited ? messageWithHeaders(message) : delivery.raw;
  const stores: StoreAction[] = result.actions.filter(
    (action): action is StoreAction => action.type === 'keep' || action.type === 'fileinto',
  );
  if (result.implicitKeep !== null) {
    stores.push({
      type: 'keep',
      mailbox: 'INBOX',
      flags: result.implicitKeep.flags,
      create: false,
      specialUse: null,
    });
  }
  let first: SieveOutcome | null = null;
  const filed: string[] = [];
  for (const action of stores) {
    const mailbox = await targetMailbox(delivery, user, action, mailboxes);
    const stored = await store.append(mailbox.id, raw, { flags: action.flags });
    filed.push(mailbox.path);
    first ??= { ...stored, userId: user.id, mailboxes: filed, scriptError: null };
  }
  for (const action of result.actions) {
    if (action.type === 'redirect') await redirect(delivery, user, action.address, raw);
    if (action.type === 'vacation') await vacation(delivery, user, action, message, now);
  }
  for (const entry of result.duplicates) {
    await store.claimSieveMemory(
      user.id,
      `duplicate:${entry.id}`,
      new Date(now.getTime() + entry.seconds * 1000),
      now,
    );
  }
  log.info(
    { rcpt: recipient, sender, mailboxes: filed, actions: result.actions.map((action) => action.type) },
    'Sieve script run',
  );
  return (
    first ?? {
      uid: 0,
      modseq: 0,
      uidValidity: 0,
      mailboxId: '',
      userId: user.id,
      mailboxes: [],
      scriptError: null,
    }
  );
}

/** Where a keep or fileinto goes: the special-use mailbox, the named one (made with :create), INBOX. */
async function targetMailbox(
  delivery: SieveDelivery,
  user: User,
  action: StoreAction,
  mailboxes: Mailbox[],
): Promise<Mailbox> {
  const { store, log } = delivery;
  if (action.type === 'keep' && delivery.junk) return junkMailboxOf(store, user);
  if (action.specialUse !== null) {
    const special = mailboxes.find(
      (mailbox) => mailbox.specialUse?.toLowerCase() === action.specialUse?.toLowerCase(),
    );
    if (special) return special;
  }
  const named = await store.getMailbox(user.id, action.mailbox);
  if (named) return named;
  if (action.create) {
    try {
      const specialUse = (action.specialUse as SpecialUse | null) ?? null;
      const made = await store.createMailbox(user.id, action.mailbox, specialUse);
      mailboxes.push(made);
      return made;
    } catch (error) {
      if (isStoreError(error, 'ALREADYEXISTS')) {
        const raced = await store.getMailbox(user.id, action.mailbox);
        if (raced) return raced;
      }
      log.warn(
        { rcpt: delivery.recipient, mailbox: action.mailbox, err: error },
        'Sieve could not create the mailbox',
      );
    }
  } else {
    log.warn(
      { rcpt: delivery.recipient, mailbox: action.mailbox },
      'Sieve fileinto: no such mailbox; filed into INBOX',
    );
  }
  const inbox = await store.getMailbox(user.id, 'INBOX');
  if (!inbox) throw new StoreError('NONEXISTENT', `user ${user.username} has no INBOX`);
  return inbox;
}

async function redirect(delivery: SieveDelivery, user: User, address: string, raw: Buffer): Promise<void> {
  const { store, log } = delivery;
  const local = await store.resolveRecipient(address);
  if (local) {
    await store.deliver(address, raw);
    log.info({ rcpt: delivery.recipient, to: address }, 'Sieve redirect delivered locally');
    return;
  }
  const queued = await store.enqueueOutbound({
    userId: user.id,
    sender: delivery.sender,
    recipients: [address],
    raw,
  });
  log.info({ rcpt: delivery.recipient, to: address, queued: queued.id }, 'Sieve redirect queued');
}

async function vacation(
  delivery: SieveDelivery,
  user: User,
  action: Extract<SieveResult['actions'][number], { type: 'vacation' }>,
  message: SieveMessage,
  now: Date,
): Promise<void> {
  const { store, log, sender, recipient } = delivery;
  const own = [
    recipient,
    ...action.addresses,
    ...(await store.listAddresses(user.id)).map((entry) => entry.address),
  ];
  const refusal = vacationRefusal(message, sender, own);
  if (refusal !== null) {
    log.info({ rcpt: recipient, sender, reason: refusal }, 'Sieve vacation: no reply');
    return;
  }
  const key = `vacation:${action.handle}\u0000${sender.toLowerCase()}`;
  const until = new Date(now.getTime() + action.seconds * 1000);
  if (!(await store.claimSieveMemory(user.id, key, until, now))) {
    log.info({ rcpt: recipient, sender }, 'Sieve vacation: already answered in this period');
    return;
  }
  const reply = buildVacationReply({
    action,
    message,
    recipient,
    sender,
    hostname: delivery.hostname,
    date: now,
  });
  const queued = await store.enqueueOutbound({
    userId: user.id,
    sender: '',
    recipients: [sender],
    raw: reply,
  });
  log.info({ rcpt: recipient, to: sender, queued: queued.id }, 'Sieve vacation reply queued');
}

async function sendRefusal(
  delivery: SieveDelivery,
  user: User,
  reason: string,
  message: SieveMessage,
): Promise<void> {
  const { store, log, sender, recipient } = delivery;
  if (sender === '') {
    log.info({ rcpt: recipient }, 'Sieve reject of a message with the null sender: discarded');
    return;
  }
  const refusal = buildRefusal({
    reason,
    raw: delivery.raw,
    message,
    recipient,
    sender,
    hostname: delivery.hostname,
  });
  const queued = await store.enqueueOutbound({
    userId: user.id,
    sender: '',
    recipients: [sender],
    raw: refusal,
  });
  log.info({ rcpt: recipient, to: sender, queued: queued.id }, 'Sieve reject: refusal queued');
}

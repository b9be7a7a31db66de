/**
 * The delivery worker: takes due messages from the queue in the store (a lease per message, so
 * any number of server processes can run one), sends each to its recipients' domains — straight to
 * their MX hosts, or all through the relay when `outbound.relay.host` is set — and records every
 * recipient's result as soon as the remote side answered. 4xx (and no answer) defers with backoff,
 * 5xx bounces; bounces and delay warnings go to a local sender's INBOX as RFC 3464 reports, and
 * so does a "relayed" report for NOTIFY=SUCCESS when the next hop could not take the request on.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config/schema.ts';
import type { MailResolver } from '../dns/resolver.ts';
import type { Logger } from '../log.ts';
import { domainOf } from '../smtp/local-domains.ts';
import { countDelivery } from '../delivery/history.ts';
import {
  isPending,
  wantsReport,
  type OutboundMessage,
  type OutboundRecipient,
  type OutboundResult,
} from '../store/outbound.ts';
import type { Store } from '../store/types.ts';
import { buildDsn, statusOf, type DsnRecipient } from './dsn.ts';
import { afterTemporaryFailure, type RetryPolicy } from './retry.ts';
import type { MtaSts } from './mta-sts.ts';
import { ConnectionPool } from './pool.ts';
import { KeyedSlots } from './slots.ts';
import {
  sendMessage,
  TransportError,
  type Destination,
  type OutgoingRecipient,
  type RecipientVerdict,
} from './transport.ts';

/** The longest pause between two tries of a store write during an outage. */
const STORE_RETRY_MAX_MS = 5_000;
/** How long stop() waits for deliveries in progress. */
const STOP_GRACE_MS = 10_000;

export interface OutboundWorkerOptions {
  store: Store;
  config: Config;
  logger: Logger;
  resolver: MailResolver;
  policy: RetryPolicy;
  /** MTA-STS policies (null: not honoured, outbound.mta_sts.enabled off). */
  mtaSts?: MtaSts | null;
}

export interface OutboundCounts {
  delivered: number;
  deferred: number;
  bounced: number;
}

/** A recipient's verdict with the host that gave it (for the DSN's Remote-MTA). */
type Verdict = RecipientVerdict & { remoteMta?: string };

/**
 * What a successful hand-over means for the sender's reports (RFC 3461 6.2): a next hop that
 * offers DSN took the parameters and reports "delivered" itself (null: nothing from us); one that
 * does not leaves us to say "relayed", the last word the sender gets from us.
 */
function successKind(verdict: Verdict): 'relayed' | null {
  return verdict.ok && verdict.nextHopDsn ? null : 'relayed';
}

export class OutboundWorker {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  readonly counts: OutboundCounts = { delivered: 0, deferred: 0, bounced: 0 };
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly log: Logger;
  private readonly leaseMs: number;
  /** Connections kept between messages to one destination while more wait for it. */
  private readonly pool = new ConnectionPool();
  private readonly domainSlots: KeyedSlots;

  constructor(private readonly options: OutboundWorkerOptions) {
    this.log = options.logger.child({ component: 'outbound' });
    this.leaseMs = options.config.outbound.lease * 1000;
    this.domainSlots = new KeyedSlots(options.config.outbound.concurrency_per_domain);
  }

  start(): void {
    const interval = this.options.config.outbound.poll_interval * 1000;
    this.timer = setInterval(() => this.wake(), interval);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the queue now (a message was just queued), instead of at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => this.log.warn({ err: error }, 'queue run failed; retrying at the next poll'))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves when no delivery is running (tests; stop()). */
  async idle(): Promise<void> {
    while (this.ticking || this.inFlight.size > 0) {
      await Promise.all([this.ticking, ...this.inFlight]);
    }
  }

  /**
   * Stops taking work and waits a little for deliveries in progress. One still talking to a slow
   * host after that is left behind: its lease lapses and a worker (after a restart, this one)
   * tries its unrecorded recipients again.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    this.pool.close();
  }

  private async tick(): Promise<void> {
    const free = this.options.config.outbound.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const messages = await this.options.store.claimOutbound(this.holder, this.leaseMs, free);
    for (const message of messages) {
      const run: Promise<void> = this.process(message)
        .catch((error: unknown) => this.log.warn({ err: error, queue: message.id }, 'delivery run failed'))
        .finally(() => {
          this.inFlight.delete(run);
          // A slot is free: more may be due.
          if (messages.length === free) this.wake();
        });
      this.inFlight.add(run);
    }
  }

  private async process(message: OutboundMessage): Promise<void> {
    const { store } = this.options;
    // The lease (outbound.lease) is short so that a dead worker's messages are soon taken up by
    // another; it is renewed while this delivery runs (several MX hosts may time out in a row).
    const renewal = setInterval(() => {
      store.renewOutbound(message.id, this.holder, this.leaseMs).catch((error: unknown) => {
        this.log.warn({ err: error, queue: message.id }, 'could not renew a queue lease');
      });
    }, this.leaseMs / 4);
    renewal.unref();
    try {
      const raw = await store.readOutboundRaw(message.id);
      const now = new Date();
      const due = message.recipients.filter(
        (recipient) =>
          isPending(recipient.state) && recipient.nextAttemptAt !== null && recipient.nextAttemptAt <= now,
      );
      const reports = {
        failed: [] as DsnRecipient[],
        delayed: [] as DsnRecipient[],
        relayed: [] as DsnRecipient[],
      };
      for (const [domain, group] of this.groups(due)) {
        // At most outbound.concurrency_per_domain deliveries to one domain (or the relay) at once.
        const verdicts = await this.domainSlots.run(domain, () =>
          this.deliverGroup(domain, group, message, raw),
        );
        for (const verdict of verdicts) {
          const recipient = message.recipients.find((entry) => entry.address === verdict.address)!;
          const result = this.resultOf(message, recipient.attempts + 1, recipient.warned, verdict);
          // The remote side has answered: its verdict must reach the store even across an outage,
          // or the recipient would be tried again (and get the message twice) once the lease lapses.
          const recorded = await this.persistently('record a delivery result', () =>
            store.recordOutbound(message.id, this.holder, verdict.address, result),
          );
          if (!recorded) continue; // the lease lapsed or an admin deleted it: not ours to report
          this.counts[result.state]++;
          await countDelivery(store, result.state === 'delivered' ? 'sent' : result.state, this.log);
          this.log.info(
            {
              queue: message.id,
              rcpt: verdict.address,
              state: result.state,
              reply: verdict.reply,
              mta: verdict.remoteMta,
            },
            'delivery attempt',
          );
          const report: DsnRecipient = {
            address: verdict.address,
            status:
              result.state === 'bounced' && verdict.ok === false && !verdict.permanent
                ? '4.4.7'
                : statusOf(verdict.reply, result.state === 'bounced'),
            diagnostic: verdict.reply,
            remoteMta: verdict.remoteMta,
            orcpt: recipient.orcpt,
          };
          const kind =
            result.state === 'delivered'
              ? successKind(verdict)
              : result.state === 'bounced'
                ? 'failed'
                : result.warned
                  ? 'delayed'
                  : null;
          // RFC 3461 NOTIFY: by default failures and delays are reported, successes only on request.
          if (kind !== null && wantsReport(recipient, kind === 'relayed' ? 'delivered' : kind))
            reports[kind].push(report);
        }
      }
      for (const kind of ['failed', 'delayed', 'relayed'] as const) {
        if (reports[kind].length > 0) await this.notifySender(message, raw, kind, reports[kind]);
      }
    } finally {
      clearInterval(renewal);
      await this.persistently('release a queue lease', () =>
        store.releaseOutbound(message.id, this.holder),
      ).catch(
        () => undefined, // stopped during an outage: the lease lapses by itself
      );
    }
  }

  /**
   * Runs a store write until it succeeds: a store outage (MongoDB away, a locked disk) only delays
   * it. Gives up (throws) once the worker is stopped, since the process is going away.
   */
  private async persistently<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (this.stopped) throw error;
        if (attempt === 0)
          this.log.warn({ err: error }, `could not ${what}; retrying until the store answers`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, STORE_RETRY_MAX_MS)));
      }
    }
  }

  /** Recipients grouped by destination: one group for the relay, else one per domain. */
  private groups(recipients: OutboundRecipient[]): Map<string, OutgoingRecipient[]> {
    const groups = new Map<string, OutgoingRecipient[]>();
    const relay = this.options.config.outbound.relay.host !== '';
    for (const { address, notify, orcpt } of recipients) {
      const key = relay ? '' : domainOf(address);
      groups.set(key, [...(groups.get(key) ?? []), { address, dsn: { notify, orcpt } }]);
    }
    return groups;
  }

  private resultOf(
    message: OutboundMessage,
    attempts: number,
    warned: boolean,
    verdict: Verdict,
  ): OutboundResult {
    if (verdict.ok) return { state: 'delivered' };
    if (verdict.permanent) return { state: 'bounced', error: verdict.reply };
    const next = afterTemporaryFailure(this.options.policy, message.createdAt, attempts, warned, new Date());
    if (next.kind === 'give-up')
      return { state: 'bounced', error: `gave up after ${attempts} attempts: ${verdict.reply}` };
    return { state: 'deferred', error: verdict.reply, nextAttemptAt: next.nextAttemptAt, warned: next.warn };
  }

  private async deliverGroup(
    domain: string,
    recipients: OutgoingRecipient[],
    message: OutboundMessage,
    raw: Buffer,
  ): Promise<Verdict[]> {
    const { config } = this.options;
    const all = (ok: false, permanent: boolean, reply: string): Verdict[] =>
      recipients.map(({ address }) => ({ address, ok, permanent, reply }));
    const relay = config.outbound.relay;
    if (relay.host !== '') {
      return this.tryDestinations(
        domain,
        [
          {
            host: relay.host,
            port: relay.port,
            servername: relay.host,
            tls: relay.tls === 'tls' ? 'implicit' : relay.tls === 'starttls' ? 'starttls' : 'none',
            verifyCertificate: true,
            auth: relay.username !== '' ? { user: relay.username, pass: relay.password } : undefined,
          },
        ],
        recipients,
        message,
        raw,
      );
    }
    let route;
    try {
      route = await this.options.resolver.route(domain);
    } catch (error) {
      return all(false, false, `4.4.3 DNS lookup of ${domain} failed: ${(error as Error).message}`);
    }
    if (route.kind === 'no-domain') return all(false, true, `5.1.2 Domain ${domain} not found`);
    if (route.kind === 'null-mx')
      return all(false, true, `5.1.10 Domain ${domain} accepts no mail (null MX)`);
    // MTA-STS: with an enforced policy only the MX hosts it lists, over TLS with a valid
    // certificate (anything less defers); a policy in testing mode is only reported.
    const policy = this.options.mtaSts ? await this.options.mtaSts.policyFor(domain) : null;
    let hosts = route.hosts;
    if (policy) {
      const outside = hosts.filter((mx) => !this.options.mtaSts!.allows(policy, mx.exchange));
      if (outside.length > 0) {
        this.log.warn(
          { domain, mode: policy.mode, mx: outside.map((mx) => mx.exchange), policy: policy.mx },
          'MX hosts not in the MTA-STS policy',
        );
      }
      if (policy.mode === 'enforce') {
        hosts = hosts.filter((mx) => !outside.includes(mx));
        if (hosts.length === 0) {
          return all(false, false, `4.7.5 MTA-STS policy of ${domain} lists none of its MX hosts`);
        }
      }
    }
    const enforced = policy?.mode === 'enforce';
    const destinations: Destination[] = [];
    let lookupError = '';
    for (const mx of hosts) {
      let addresses: string[] = [];
      try {
        addresses = await this.options.resolver.addresses(mx.exchange);
      } catch (error) {
        lookupError = `4.4.3 DNS lookup of ${mx.exchange} failed: ${(error as Error).message}`;
      }
      for (const address of addresses) {
        destinations.push({
          host: address,
          port: config.outbound.mx_port,
          servername: mx.exchange,
          tls: enforced ? 'starttls' : 'opportunistic',
          verifyCertificate: enforced,
          ca: enforced ? this.options.mtaSts!.ca : undefined,
        });
      }
    }
    if (destinations.length === 0) {
      return all(false, false, lookupError || `4.4.4 No address for the mail hosts of ${domain}`);
    }
    return this.tryDestinations(domain, destinations, recipients, message, raw);
  }

  /** Tries each destination in order until one answers the recipients (RFC 5321 5.1). */
  private async tryDestinations(
    /** The slot key: the recipients' domain, "" for the relay. */
    domain: string,
    destinations: Destination[],
    recipients: OutgoingRecipient[],
    message: OutboundMessage,
    raw: Buffer,
  ): Promise<Verdict[]> {
    let last = '4.4.1 No answer from any mail host';
    for (const destination of destinations) {
      try {
        const verdicts = await sendMessage(
          {
            destination,
            helo: this.options.config.hostname,
            sender: message.sender,
            recipients,
            raw,
            dsn: message.dsn,
          },
          this.pool,
          // Another message for this domain waits for the slot: it takes this connection over.
          () => this.domainSlots.waiting(domain) > 0,
        );
        return verdicts.map((verdict) => ({ ...verdict, remoteMta: destination.servername }));
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        last = error.unreachable ? `4.4.1 ${destination.servername}: ${error.message}` : error.message;
        // A permanent refusal before any recipient (5xx to MAIL FROM) is the domain's answer.
        if (error.permanent) {
          return recipients.map(({ address }) => ({
            address,
            ok: false,
            permanent: true,
            reply: last,
            remoteMta: destination.servername,
          }));
        }
      }
    }
    return recipients.map(({ address }) => ({ address, ok: false, permanent: false, reply: last }));
  }

  /** A report to the sender, only when the sender is one of our users (never to the null sender). */
  private async notifySender(
    message: OutboundMessage,
    raw: Buffer,
    kind: 'failed' | 'delayed' | 'relayed',
    recipients: DsnRecipient[],
  ): Promise<void> {
    const { store, config } = this.options;
    if (message.sender === '') return;
    try {
      const user = await store.resolveRecipient(message.sender);
      if (!user) return;
      const dsn = buildDsn({
        kind,
        hostname: config.hostname,
        to: message.sender,
        queueId: message.id,
        queuedAt: message.createdAt,
        recipients,
        original: raw,
        envid: message.dsn.envid,
        returnFull: message.dsn.ret === 'FULL',
      });
      await store.deliver(message.sender, Buffer.concat([Buffer.from(`Return-Path: <>\r\n`), dsn]));
      this.log.info({ queue: message.id, to: message.sender, kind }, 'delivery report sent');
    } catch (error) {
      this.log.warn({ err: error, queue: message.id }, 'delivery report could not be stored');
    }
  }
}

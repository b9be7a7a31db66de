/**
 * The POP3 maildrop lock (RFC 1939 8: one session per maildrop) as a store lease, so that it holds
 * across every server process sharing the store, not only within one. The lease outlives a crashed
 * process by at most its TTL; a live session renews it by a timer and before commands.
 */
import os from 'node:os';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';

/** How long a lease lasts without renewal: what a crashed process keeps a maildrop locked for. */
export const LEASE_TTL_MS = 2 * 60_000;
/** How often a session renews its lease; well inside the TTL so a slow store does not lose it. */
const RENEW_EVERY_MS = LEASE_TTL_MS / 4;
/** How often a release that failed (store unreachable) is tried again. */
const RELEASE_RETRY_MS = 1000;
/** A command renews the lease when the last renewal is older than this (not on every command). */
const RENEW_ON_COMMAND_AFTER_MS = 10_000;

export class MaildropLease {
  readonly key: string;
  /** Unique per session across processes and hosts: only this session renews or releases it. */
  readonly holder: string;
  private timer: NodeJS.Timeout | null = null;
  private renewedAt = 0;
  private held = false;
  /** The renewal in flight: a release waits for it, or it could re-create the released lease. */
  private renewing: Promise<boolean> | null = null;

  constructor(
    private readonly store: Store,
    userId: string,
    sessionId: string,
    private readonly log: Logger,
    /** Called when a renewal finds the lease taken by another session (it had expired). */
    private readonly onLost: () => void,
  ) {
    this.key = `pop3:${userId}`;
    this.holder = `${os.hostname()}/${process.pid}/${sessionId}`;
  }

  /** Takes the lease; false when another session has it. Store errors propagate. */
  async acquire(): Promise<boolean> {
    if (!(await this.store.acquireLease(this.key, this.holder, LEASE_TTL_MS))) return false;
    this.held = true;
    this.renewedAt = Date.now();
    this.timer = setInterval(() => void this.renew(), RENEW_EVERY_MS);
    this.timer.unref();
    return true;
  }

  /** Renews before a command, unless renewed recently. False when the lease was lost. */
  async beforeCommand(): Promise<boolean> {
    if (!this.held) return false;
    if (Date.now() - this.renewedAt < RENEW_ON_COMMAND_AFTER_MS) return true;
    return this.renew();
  }

  private renew(): Promise<boolean> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = null));
    return this.renewing;
  }

  /** Pushes the expiry out. A store error is logged and tried again later (the TTL leaves room). */
  private async renewOnce(): Promise<boolean> {
    if (!this.held) return false;
    try {
      if (await this.store.acquireLease(this.key, this.holder, LEASE_TTL_MS)) {
        this.renewedAt = Date.now();
        return true;
      }
    } catch (error) {
      this.log.warn({ err: error }, 'maildrop lease renewal failed');
      return true;
    }
    if (!this.held) return false; // released while the renewal was in flight
    this.log.warn({ key: this.key }, 'maildrop lease lost to another session');
    this.stop();
    this.onLost();
    return false;
  }

  /**
   * Gives the lease up (idempotent). When the store cannot be reached (an outage), tries again
   * every second in the background until it can or the lease has expired anyway, so the maildrop
   * is free again as soon as the store is back, not only after the TTL.
   */
  async release(): Promise<void> {
    if (!this.held) return;
    this.stop();
    await this.renewing;
    if (await this.tryRelease()) return;
    this.log.warn({ key: this.key }, 'maildrop lease release failed; retrying until the store is back');
    const expires = this.renewedAt + LEASE_TTL_MS;
    const retry = setInterval(() => {
      if (Date.now() >= expires) return clearInterval(retry);
      void this.tryRelease().then((released) => released && clearInterval(retry));
    }, RELEASE_RETRY_MS);
    retry.unref();
  }

  private async tryRelease(): Promise<boolean> {
    try {
      await this.store.releaseLease(this.key, this.holder);
      return true;
    } catch (error) {
      this.log.debug({ err: error }, 'maildrop lease release failed');
      return false;
    }
  }

  private stop(): void {
    this.held = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

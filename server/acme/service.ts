/**
 * Certificates from an ACME CA (Let's Encrypt by default), for the server's names (`hostname` plus
 * `acme.names`): issued on request (API, CLI, the panel, a first-run wizard), stored and activated
 * through the certificate store of server/tls (so new connections get it at once, no restart), and
 * renewed `acme.renew_days` before expiry by a daily check while `acme.enabled` is on. A failed
 * attempt keeps the certificate that is served, records the error (status, event, log at WARN) and
 * is retried with backoff: 1 h, 2 h, 4 h … at most a day apart.
 *
 *   const acme = new AcmeService({ config, certificates: server.tls.certificates, logger, onChange })
 *   await acme.issue({ acceptTerms: true, wait: true })  // AcmeStatus; its lastError says why not
 *   acme.status()                                        // for the dashboard: state, expiry, error
 *   acme.confirm()                                       // manual DNS-01: the TXT record is published
 *   acme.start() / await acme.stop()                     // the renewal check
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { normalizeName, type CertificateStore } from '../tls/store.ts';
import type { AccountSettings } from './account.ts';
import { rfc2136ChallengeResponder } from './challenges/dns-01.ts';
import { httpChallengeResponder } from './challenges/http-01.ts';
import { manualChallengeResponder, type ManualRecord, type ManualResponder } from './challenges/manual.ts';
import { tlsAlpnChallengeResponder } from './challenges/tls-alpn-01.ts';
import type { ChallengeResponder, ChallengeType } from './challenges/types.ts';
import { AcmeError } from './errors.ts';
import { readState, writeState, type AcmeState } from './state.ts';

export type { ChallengeType, ManualRecord };

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const STOP_WAIT_MS = 3_000;

export interface AcmeStatus {
  enabled: boolean;
  directoryUrl: string;
  email: string;
  termsAccepted: boolean;
  challenge: ChallengeType;
  /** The names a certificate is requested for. */
  names: string[];
  /** idle: nothing issued yet; running; waiting-for-dns: manual records to publish; valid; failed: the last attempt failed. */
  state: 'idle' | 'running' | 'waiting-for-dns' | 'valid' | 'failed';
  certificate: { id: string; names: string[]; notAfter: string; active: boolean } | null;
  /** When the renewal check will renew (notAfter minus renew_days). */
  renewAfter: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  failures: number;
  nextAttemptAt: string | null;
  /** Manual DNS-01: the TXT records to publish before confirming. */
  records: ManualRecord[];
}

export interface IssueOptions {
  /** The operator accepts the CA's terms of service (remembered in the data directory). */
  acceptTerms?: boolean;
  /** Default `acme.challenge`. */
  challenge?: ChallengeType;
  /** Resolve when the run has ended (or waits for the operator's TXT records), not at once. */
  wait?: boolean;
}

export interface AcmeServiceOptions {
  config: Config;
  certificates: CertificateStore;
  logger?: Logger;
  /** Every change of status (the admin API's event stream). */
  onChange?: (status: AcmeStatus) => void;
  /** First retry delay after a failure (default 1 h); doubles up to a day. */
  retryBaseMs?: number;
  /** The clock a failure's retry time is counted from (tests read the instant it was taken). */
  now?: () => number;
  /** How often the renewal check runs (default a day). */
  checkIntervalMs?: number;
  /** How long a manual TXT record is waited for (default an hour). */
  manualTimeoutMs?: number;
}

export class AcmeService {
  private readonly config: Config;
  private readonly dataDir: string;
  private running: Promise<AcmeStatus> | null = null;
  private manual: ManualResponder | null = null;
  private responder: ChallengeResponder | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private waitingListeners = new Set<() => void>();

  constructor(private readonly options: AcmeServiceOptions) {
    this.config = options.config;
    this.dataDir = options.config.data_dir;
  }

  /** hostname first, then acme.names, normalized and without repeats. */
  names(): string[] {
    const names = [this.config.hostname, ...this.config.acme.names].map((name) => {
      const normalized = normalizeName(name);
      if (!normalized.includes('.') || /^[\d.]+$|:/.test(normalized)) {
        throw new AcmeError(
          'not_configured',
          `"${name}" is not a public DNS name an ACME CA can certify: set hostname (and acme.names) to the server's public names`,
        );
      }
      return normalized;
    });
    return [...new Set(names)];
  }

  status(): AcmeStatus {
    const state = readState(this.dataDir);
    const acme = this.config.acme;
    const certificate = this.issuedCertificate(state);
    const records = this.manual?.pending() ?? [];
    let names: string[] = [];
    try {
      names = this.names();
    } catch {
      names = [this.config.hostname, ...acme.names];
    }
    return {
      enabled: acme.enabled,
      directoryUrl: acme.directory_url,
      email: acme.email,
      termsAccepted: acme.accept_terms || state.termsAcceptedAt !== null,
      challenge: acme.challenge,
      names,
      state: this.running
        ? records.length > 0
          ? 'waiting-for-dns'
          : 'running'
        : state.lastError
          ? 'failed'
          : certificate
            ? 'valid'
            : 'idle',
      certificate,
      renewAfter: certificate
        ? new Date(new Date(certificate.notAfter).getTime() - acme.renew_days * DAY_MS).toISOString()
        : null,
      lastAttemptAt: state.lastAttemptAt,
      lastError: state.lastError,
      failures: state.failures,
      nextAttemptAt: state.nextAttemptAt,
      records,
    };
  }

  /**
   * Requests a certificate for `names()` now. Throws AcmeError busy when a run is going on, and
   * not_configured / terms_not_accepted before contacting anyone; a failure of the order itself is
   * in the returned status (`state: 'failed'`, `lastError`), as the renewal check records it.
   */
  async issue(options: IssueOptions = {}): Promise<AcmeStatus> {
    if (this.running) throw new AcmeError('busy', 'a certificate request is already running');
    const names = this.names();
    if (options.acceptTerms) {
      const state = readState(this.dataDir);
      if (!state.termsAcceptedAt)
        writeState(this.dataDir, { ...state, termsAcceptedAt: new Date().toISOString() });
    }
    if (!this.config.acme.accept_terms && !readState(this.dataDir).termsAcceptedAt) {
      const { termsRefusal } = await import('./account.ts');
      throw new AcmeError('terms_not_accepted', await termsRefusal(this.accountSettings(false)));
    }
    const responder = this.responderFor(options.challenge ?? this.config.acme.challenge);
    const run = this.run(names, responder).finally(() => {
      this.running = null;
      this.manual = null;
      this.responder = null;
      this.changed();
    });
    this.running = run;
    this.changed();
    if (!options.wait) return this.status();
    // A manual challenge returns as soon as its records are shown: the operator publishes them, then confirms.
    const waiting = new Promise<AcmeStatus>((resolve) => {
      const listener = () => {
        this.waitingListeners.delete(listener);
        resolve(this.status());
      };
      this.waitingListeners.add(listener);
      void run.then(listener);
    });
    return waiting;
  }

  /** Manual DNS-01: the operator published the TXT records; the CA may now look. */
  confirm(): AcmeStatus {
    if (!this.manual?.confirm()) {
      throw new AcmeError('nothing_to_confirm', 'no TXT record is waiting to be confirmed');
    }
    return this.status();
  }

  /** The status once the run going on (if any) has ended. */
  async settled(): Promise<AcmeStatus> {
    return (await this.running) ?? this.status();
  }

  /** Whether the certificate needs renewing now: missing, removed, names changed, or within renew_days of expiry. */
  renewalDue(now = Date.now()): boolean {
    const state = readState(this.dataDir);
    const certificate = this.issuedCertificate(state);
    if (!certificate) return true;
    if (new Date(certificate.notAfter).getTime() - now < this.config.acme.renew_days * DAY_MS) return true;
    try {
      return this.names().some((name) => !certificate.names.includes(name));
    } catch {
      return false;
    }
  }

  /**
   * The renewal check (daily while acme.enabled): renews when due and no retry is pending for
   * later. Resolves with the status after any attempt.
   */
  async check(now = Date.now()): Promise<AcmeStatus> {
    const state = readState(this.dataDir);
    if (this.running || !this.renewalDue(now)) return this.status();
    if (state.nextAttemptAt && new Date(state.nextAttemptAt).getTime() > now) return this.status();
    try {
      return await this.issue({ wait: true });
    } catch (error) {
      // Not configured or terms not accepted: say so where the dashboard looks, then try tomorrow.
      this.recordFailure((error as Error).message);
      return this.status();
    }
  }

  /** Starts the renewal check: at once, then daily, sooner when a retry is due. */
  start(): void {
    if (!this.config.acme.enabled) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.responder?.close();
    // A run polling the CA for a verdict may take a while to notice its listener is gone: the
    // server's stop does not wait for that (the run only records its outcome when it ends).
    if (this.running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.running.catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
  }

  // ---- internals ---------------------------------------------------------------------------------

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check().then(() => {
        const next = readState(this.dataDir).nextAttemptAt;
        const interval = this.options.checkIntervalMs ?? DAY_MS;
        const untilRetry = next ? Math.max(new Date(next).getTime() - Date.now(), 0) : interval;
        this.schedule(Math.min(interval, untilRetry));
      });
    }, delayMs);
    this.timer.unref();
  }

  private accountSettings(termsAccepted: boolean): AccountSettings {
    const acme = this.config.acme;
    return {
      dataDir: this.dataDir,
      directoryUrl: acme.directory_url,
      email: acme.email,
      termsAccepted,
      caFile: acme.ca_file,
    };
  }

  private responderFor(challenge: ChallengeType): ChallengeResponder {
    const acme = this.config.acme;
    switch (challenge) {
      case 'http-01':
        return httpChallengeResponder({ host: acme.host, port: acme.http_port });
      case 'tls-alpn-01':
        return tlsAlpnChallengeResponder({ host: acme.host, port: acme.tls_port });
      case 'dns-01':
        if (!acme.dns.server || !acme.dns.tsig_name || !acme.dns.tsig_secret) {
          throw new AcmeError(
            'not_configured',
            'DNS-01 needs acme.dns.server, acme.dns.tsig_name and acme.dns.tsig_secret (or use the manual challenge)',
          );
        }
        return rfc2136ChallengeResponder({
          server: acme.dns.server,
          zone: acme.dns.zone,
          key: { name: acme.dns.tsig_name, secret: acme.dns.tsig_secret },
        });
      case 'manual':
        return (this.manual = manualChallengeResponder({
          timeoutMs: this.options.manualTimeoutMs ?? HOUR_MS,
          onWaiting: () => {
            for (const listener of [...this.waitingListeners]) listener();
            this.changed();
          },
        }));
    }
  }

  private async run(names: string[], responder: ChallengeResponder): Promise<AcmeStatus> {
    this.responder = responder;
    const attemptAt = new Date().toISOString();
    const before = readState(this.dataDir);
    writeState(this.dataDir, { ...before, lastAttemptAt: attemptAt });
    try {
      // acme-client (some 10 MB of heap) loads with the first request, not with the server.
      const { registeredClient } = await import('./account.ts');
      const { orderCertificate } = await import('./order.ts');
      const client = await registeredClient(this.accountSettings(true));
      const issued = await orderCertificate(client, names, responder);
      const certificates = this.options.certificates;
      const info = certificates.importCertificate({
        certPem: issued.chainPem,
        keyPem: issued.keyPem,
        activate: true,
      });
      const previous = before.certificateId;
      if (previous && previous !== info.id) {
        // The replaced certificate is no longer served; keeping expired keys around helps nobody.
        try {
          certificates.remove(previous);
        } catch {
          // Gone already, or activated again by the operator: leave it.
        }
      }
      writeState(this.dataDir, {
        ...readState(this.dataDir),
        certificateId: info.id,
        names: info.names,
        notAfter: info.notAfter,
        issuedAt: new Date().toISOString(),
        lastError: null,
        failures: 0,
        nextAttemptAt: null,
      });
      this.options.logger?.info(
        { certificate: info.id, names: info.names, notAfter: info.notAfter },
        'ACME certificate issued and activated',
      );
    } catch (error) {
      await responder.close();
      this.recordFailure((error as Error).message);
    }
    return this.status();
  }

  private recordFailure(message: string): void {
    const state = readState(this.dataDir);
    const failures = state.failures + 1;
    const delay = Math.min((this.options.retryBaseMs ?? HOUR_MS) * 2 ** (failures - 1), DAY_MS);
    const next: AcmeState = {
      ...state,
      lastAttemptAt: state.lastAttemptAt ?? new Date().toISOString(),
      lastError: message,
      failures,
      nextAttemptAt: new Date((this.options.now ?? Date.now)() + delay).toISOString(),
    };
    writeState(this.dataDir, next);
    this.options.logger?.warn(
      { err: message, failures, nextAttemptAt: next.nextAttemptAt },
      'ACME certificate request failed; the current certificate stays in use',
    );
    this.changed();
  }

  private issuedCertificate(state: AcmeState): AcmeStatus['certificate'] {
    if (!state.certificateId) return null;
    try {
      const info = this.options.certificates.get(state.certificateId);
      return { id: info.id, names: info.names, notAfter: info.notAfter, active: info.active };
    } catch {
      return null;
    }
  }

  private changed(): void {
    if (!this.options.onChange) return;
    try {
      this.options.onChange(this.status());
    } catch {
      // A listener's failure must not stop a certificate request.
    }
  }
}

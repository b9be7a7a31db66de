/**
 * The composition root: configuration → store → journal follower → hooks → listeners. This is the
 * only module that picks a store engine; everything else sees the `Store` contract.
 */
import fs from 'node:fs';
import type { EventBus } from './admin/events.ts';
import type { LogBuffer } from './admin/log-buffer.ts';
import type { AdminOptions, AdminServer } from './admin/server.ts';
import type { SessionRegistry } from './admin/sessions.ts';
import type { Guard, LoginGuardOptions } from './auth/login-guard.ts';
import type { Config } from './config/schema.ts';
import type { RuleHooks } from './hooks/runner.ts';
import type { ConnectionHooks } from './hooks/types.ts';
import type { ImapService } from './imap/server.ts';
import type { InboundCheck } from './inbound/types.ts';
import type { GreylistQuery } from './spam/greylist.ts';
import type { RspamdClient } from './spam/rspamd.ts';
import type { ManageSieveService } from './managesieve/server.ts';
import type { Pop3Service } from './pop3/server.ts';
import type { LmtpService } from './lmtp/server.ts';
import type { SmtpService } from './smtp/server.ts';
import type { SubmissionService } from './submission/server.ts';
import type { WebService } from './web/server.ts';
import type { OutboundWorker } from './outbound/worker.ts';
import type { Logger } from './log.ts';
import type { Gate } from './net/connection-gate.ts';
import type { WorkerLink } from './cluster/worker-link.ts';
import type { Store } from './store/types.ts';
import { openSqliteStore } from './store/sqlite/store.ts';
import type { TlsProvider } from './tls/context.ts';
import type { AcmeService } from './acme/service.ts';

/** The data directory holds keys and tokens: owner-only. */
export function ensureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export interface OpenStoreOptions {
  /**
   * Run the embedded engine on threads of its own when `store.sqlite.thread` says so: the server does,
   * so that no statement, COMMIT or fsync stops its event loop. CLI commands (one caller, nothing
   * else to serve) keep the direct engine and skip starting a thread.
   */
  serving?: boolean;
}

export async function openStore(
  config: Config,
  logger?: Logger,
  options: OpenStoreOptions = {},
): Promise<Store> {
  switch (config.store.engine) {
    case 'sqlite':
      ensureDataDir(config.data_dir);
      if (options.serving && config.store.sqlite.thread) return openThreadedStore(config, logger);
      return openSqliteStore(config.data_dir);
    case 'mongodb': {
      if (config.store.mongodb.local !== '') return openLocalMongoStore(config, logger);
      const uri = config.store.mongodb.uri;
      if (uri === '') {
        throw new Error(
          'store.engine is mongodb but store.mongodb.uri is empty: set it (or MALLARD_STORE_MONGODB_URI) to a mongodb:// URI',
        );
      }
      // Loaded only here: a sqlite installation never loads the MongoDB driver.
      const { openMongoStore } = await import('./store/mongodb/index.ts');
      return openMongoStore(uri);
    }
  }
}

/**
 * The store's writer thread ends after this long without a write, and starts again with the next
 * one: with thousands of sessions in IDLE and no mail coming, each worker keeps only the reader.
 */
const WRITER_IDLE_STOP_MS = 60_000;

async function openThreadedStore(config: Config, logger?: Logger): Promise<Store> {
  // Loaded only by the server: a CLI command (an MTA's `mallard deliver`) never starts a thread.
  const { openThreadedSqliteStore } = await import('./store/sqlite/thread.ts');
  return openThreadedSqliteStore(config.data_dir, {
    callTimeoutMs: Math.round(config.store.sqlite.call_timeout * 1000),
    writerIdleStopMs: WRITER_IDLE_STOP_MS,
    // A write that answered UNAVAILABLE and then committed: its session was told to retry, and the
    // journal announces the message anyway. Worth a line for whoever reads about a duplicate.
    onLateAnswer: (method, outcome, elapsedMs) =>
      logger?.warn({ method, outcome, elapsedMs }, 'store call finished after its deadline'),
    onThreadExit: (detail) =>
      logger?.error({ detail }, 'store thread stopped; a new one starts with the next call'),
  });
}

/**
 * `store.mongodb.local`: starts (or finds running) the local replica set under the data directory
 * and opens the store on it. A set this process started stops when the store closes.
 */
async function openLocalMongoStore(config: Config, logger?: Logger): Promise<Store> {
  ensureDataDir(config.data_dir);
  const { startLocalReplicaSet } = await import('./store/mongodb/local-replica-set.ts');
  const { openMongoStore } = await import('./store/mongodb/index.ts');
  const set = await startLocalReplicaSet({
    mongod: config.store.mongodb.local,
    dataDir: config.data_dir,
    members: config.store.mongodb.local_members,
    logger,
  });
  let store: Store;
  try {
    store = await openMongoStore(set.uri);
  } catch (error) {
    await set.stop();
    throw error;
  }
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      try {
        await close();
      } finally {
        await set.stop();
      }
    },
  });
}

export interface StartOptions {
  /** Bind every enabled listener to a free port chosen by the OS (tests); the real ports are in `imap.listeners`. */
  ephemeralPorts?: boolean;
  hooks?: ConnectionHooks;
  logger?: Logger;
  /**
   * The log tail the admin API serves. Made (and tee'd into the logger) when the logger is made
   * here; an embedder passing its own logger may pass the buffer it tees into.
   */
  logBuffer?: LogBuffer;
  /** Admin API settings beyond admin.host/port (token, throttling, stream limits): tests. */
  admin?: Omit<AdminOptions, 'host' | 'port'>;
  /**
   * Set in a worker process of `mallard serve`: the login guard, the connection gate and the
   * per-user limit are the supervisor's (asked through this link), and only worker 1 runs the
   * admin API, which then shows every worker's sessions and counters.
   */
  worker?: WorkerLink;
}

export interface RunningServer {
  config: Config;
  logger: Logger;
  store: Store;
  tls: TlsProvider;
  /** The connection rules from the store (counters, dry runs); null when `options.hooks` replaced them. */
  rules: RuleHooks | null;
  imap: ImapService;
  pop3: Pop3Service;
  lmtp: LmtpService;
  smtp: SmtpService;
  /** Submission for mail clients (587, 465). */
  submission: SubmissionService;
  /** ManageSieve (4190): mail clients manage their Sieve filters. */
  managesieve: ManageSieveService;
  /** Delivers the outbound queue to other domains. */
  outbound: OutboundWorker;
  /** HTTPS for client autoconfiguration and the MTA-STS policy (server/web/). */
  web: WebService;
  /** Every live IMAP, POP3, LMTP and SMTP session of this process. */
  sessions: SessionRegistry;
  /** Connection limits and the pre-login deadline, shared by every protocol. */
  gate: Gate & { readonly openConnections: number };
  /** Live events (sessions, rule verdicts, deliveries, certificates) for the admin API stream. */
  events: EventBus;
  /** The admin API; null when admin.port is 0. */
  admin: AdminServer | null;
  /** Password guessing: per-address lockouts, per-account slow-down and alerts. */
  guard: Guard;
  /**
   * Certificates from an ACME CA: requests, status, the renewal check (server/acme/). Null in a
   * worker other than worker 1, which runs it for the whole server.
   */
  acme: AcmeService | null;
  stop(): Promise<void>;
}

function portOf(configured: number, ephemeral: boolean): number {
  return configured && ephemeral ? -1 : configured;
}

/** A listener's port, 0 (no listener) when its protocol is switched off (`enabled: false`). */
function listenPort(section: { enabled: boolean }, configured: number, ephemeral: boolean): number {
  return section.enabled ? portOf(configured, ephemeral) : 0;
}

/** The login guard's settings from the `auth` section. */
export function guardOptions(config: Config): LoginGuardOptions {
  const auth = config.auth;
  return {
    addressFailureLimit: auth.address_failure_limit,
    windowMs: auth.failure_window * 1000,
    lockoutMs: auth.address_lockout * 1000,
    baseDelayMs: auth.base_delay_ms,
    maxDelayMs: Math.max(auth.max_delay_ms, auth.base_delay_ms),
    accountSlowdownAfter: auth.account_slowdown_after,
    accountAlertAfter: auth.account_alert_after,
    knownAddressMs: auth.known_address_days * 24 * 3600_000,
  };
}

/** What SMTP-in checks on each message, in order (server/inbound/): sender authentication, then spam. */
async function inboundChecksOf(config: Config, store: Store, logger: Logger): Promise<InboundCheck[]> {
  const checks: InboundCheck[] = [];
  // Loaded here, as the listeners are: mailauth is large, and `mallard deliver` needs neither it nor
  // node:dns.
  if (config.inbound.verify_senders) {
    const { lazyCheck } = await import('./inbound/lazy-check.ts');
    checks.push(
      lazyCheck('auth', async () => {
        const { senderAuthCheck } = await import('./inbound/auth/check.ts');
        const { authLookup } = await import('./dns/resolver.ts');
        return senderAuthCheck({
          hostname: config.hostname,
          lookup: authLookup(config.dns.servers),
          dmarcReject: config.inbound.dmarc_reject,
        });
      }),
    );
  }
  if (config.spam.enabled) {
    const { spamCheck } = await import('./spam/check.ts');
    const { Dnsbl } = await import('./spam/dnsbl.ts');
    const spam = config.spam;
    checks.push(
      spamCheck({
        store,
        rspamd: await rspamdOf(config),
        dnsbl: spam.dnsbl.length > 0 ? new Dnsbl(spam.dnsbl, config.dns.servers) : null,
        dnsblScore: spam.dnsbl_score,
        junkScore: spam.junk_score,
        rejectScore: spam.reject_score,
        log: logger,
      }),
    );
  }
  return checks;
}

/** The rspamd client of spam.rspamd_url / spam.rspamd_controller_url (null: neither is set). */
async function rspamdOf(config: Config): Promise<RspamdClient | null> {
  const spam = config.spam;
  if (!spam.rspamd_url && !spam.rspamd_controller_url) return null;
  const { RspamdClient } = await import('./spam/rspamd.ts');
  return new RspamdClient(spam.rspamd_url, spam.rspamd_controller_url, spam.rspamd_password);
}

/** Learning from Junk moves, when rspamd's controller is configured (spam.rspamd_controller_url). */
async function spamLearnerOf(config: Config, store: Store, logger: Logger, events: EventBus) {
  const rspamd = config.spam.enabled ? await rspamdOf(config) : null;
  if (!rspamd?.learns) return undefined;
  const { SpamLearner } = await import('./spam/learning.ts');
  return new SpamLearner(store, rspamd, logger, (report) => events.publish('spam.learned', report));
}

/** SMTP-in's greylisting at RCPT (spam.greylisting), or undefined when it is off. */
async function greylistOf(
  config: Config,
  store: Store,
): Promise<((query: GreylistQuery) => Promise<Date | null>) | undefined> {
  if (!config.spam.enabled || !config.spam.greylisting) return undefined;
  const { Greylister, greylistGate } = await import('./spam/greylist.ts');
  const greylister = new Greylister(
    store,
    config.spam.greylist_delay * 1000,
    config.spam.greylist_expiry_days * 24 * 3600_000,
  );
  return greylistGate(store, greylister);
}

/**
 * What only one process of a server runs: ACME (its renewal check), the daily backup, import jobs,
 * and the loader of the admin API. Loaded on demand, here only: an IMAP worker holding thousands of
 * idle sessions carries none of their modules.
 */
async function startAdminSide(
  config: Config,
  store: Store,
  tls: TlsProvider,
  logger: Logger,
  events: EventBus,
) {
  // acme-client (and its HTTP stack) is needed by the server only.
  const { AcmeService } = await import('./acme/service.ts');
  const acme = new AcmeService({
    config,
    certificates: tls.certificates,
    logger,
    onChange: (status) => events.publish('acme.changed', status),
  });
  // With workers, a renewed certificate reaches the others through the store on disk
  // (server/tls/context.ts follows it). The store lease keeps other servers on the store out of
  // the backup.
  acme.start();
  const { BackupService } = await import('./backup/service.ts');
  const backups = new BackupService({ config, store, logger });
  backups.start();
  const { ImportJobs } = await import('./import/jobs.ts');
  const imports = new ImportJobs(store, config.limits.max_message_size);
  return {
    acme,
    backups,
    imports,
    async startAdmin(...args: Parameters<typeof import('./admin/server.ts').startAdmin>) {
      const { startAdmin } = await import('./admin/server.ts');
      return startAdmin(...args);
    },
    async stop() {
      await acme.stop();
      await backups.stop();
      await imports.stop();
    },
  };
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const startedAt = new Date();
  // Loaded here, not at the top: the CLI's store commands import this module for openStore, and
  // `mallard deliver` (which an MTA may start for every message) must not load TLS (node-forge),
  // logging or the admin API's machinery.
  const { LogBuffer } = await import('./admin/log-buffer.ts');
  const { createLogger } = await import('./log.ts');
  const { JournalFollower } = await import('./store/follower.ts');
  const { createTlsProvider } = await import('./tls/context.ts');
  const { startRuleHooks } = await import('./hooks/runner.ts');
  const { EventBus } = await import('./admin/events.ts');
  const { SessionRegistry } = await import('./admin/sessions.ts');
  const { observeHooks } = await import('./admin/hook-events.ts');
  const { ALLOW_ALL } = await import('./hooks/types.ts');
  const { MailboxStates } = await import('./imap/mailbox-state.ts');
  const { VERSION } = await import('./version.ts');
  const { LoginGuard } = await import('./auth/login-guard.ts');
  const { ConnectionGate, gateLimitsOf } = await import('./net/connection-gate.ts');
  const { UserSessionCounter } = await import('./net/user-sessions.ts');
  const worker = options.worker;
  const logs = options.logBuffer ?? (options.logger ? null : new LogBuffer());
  // The admin API's log tail is worker 1's: the other workers send it their lines (and print them).
  const tee = worker && worker.slot !== 1 ? worker.logForwarder() : (logs ?? undefined);
  const baseLogger = options.logger ?? createLogger(config.log_level, process.stdout, tee);
  // A worker's lines say which worker wrote them.
  const logger = worker ? baseLogger.child({ worker: worker.slot }) : baseLogger;
  const opened = await openStore(config, logger, { serving: true });
  const follower = new JournalFollower(opened, (error) =>
    logger.error({ err: error }, 'journal follow failed'),
  );
  await follower.start(config.server.journal_poll_ms);
  // Each change committed here is read from the journal at once, by this process (a delivery
  // reaches its IDLE sessions without waiting for the poll) and, told through the supervisor, by
  // the other workers.
  const { signalJournalWrites } = await import('./store/journal-signal.ts');
  const store = signalJournalWrites(opened, () => {
    follower.nudge();
    worker?.journalWritten();
  });
  const tls = createTlsProvider(config);
  const rules = options.hooks ? null : await startRuleHooks(store, config.rules, logger);
  const events = new EventBus();
  const sessions = new SessionRegistry(events);
  // A worker's rules that count (max-conn, rate, lockout) are the supervisor's: one count per server.
  const cluster = worker ? await import('./cluster/worker-link.ts') : null;
  const ruleHooks =
    worker && rules && cluster ? cluster.clusterHooks(rules, worker.rpc, worker.deadlines) : rules;
  const hooks: ConnectionHooks = observeHooks(options.hooks ?? ruleHooks ?? ALLOW_ALL, events);
  const guard: Guard =
    worker?.guard ??
    new LoginGuard(guardOptions(config), (alert) => {
      logger.warn(
        { user: alert.username, failures: alert.failures, addresses: alert.addresses },
        'many failed logins for one account',
      );
      events.publish('auth.alert', { ...alert, since: alert.since.toISOString() });
    });
  const ephemeral = options.ephemeralPorts ?? false;
  const { startImap } = await import('./imap/server.ts');
  const { ParsePool, automaticPoolSize } = await import('./imap/offload/pool.ts');
  const parsePool = new ParsePool(config.imap.parse_workers || automaticPoolSize());
  const services = {
    config,
    store,
    follower,
    hooks,
    guard,
    logger,
    userSessions: worker?.userSessions ?? new UserSessionCounter(),
    mailboxStates: new MailboxStates(follower),
    sessions,
    gate: worker?.gate ?? new ConnectionGate(gateLimitsOf(config.limits)),
    parsePool,
    inboundChecks: await inboundChecksOf(config, store, logger),
    greylist: await greylistOf(config, store),
    spamLearner: await spamLearnerOf(config, store, logger, events),
  };
  /**
   * New spam settings (the admin API) in force from the next message on: the checks, greylisting
   * and learning are made again from them. The listeners read these from `services` per message.
   */
  const applySpamHere = async (spam: Config['spam']): Promise<void> => {
    config.spam = spam;
    services.inboundChecks = await inboundChecksOf(config, store, logger);
    services.greylist = await greylistOf(config, store);
    services.spamLearner = await spamLearnerOf(config, store, logger, events);
    logger.info({ rspamd: spam.rspamd_url || null, enabled: spam.enabled }, 'spam settings applied');
  };
  const imap = await startImap(services, tls, {
    port: listenPort(config.imap, config.imap.port, ephemeral),
    tlsPort: listenPort(config.imap, config.imap.tls_port, ephemeral),
  });
  const { startPop3 } = await import('./pop3/server.ts');
  const pop3 = await startPop3(services, tls, {
    port: listenPort(config.pop3, config.pop3.port, ephemeral),
    tlsPort: listenPort(config.pop3, config.pop3.tls_port, ephemeral),
  }).catch(async (error: unknown) => {
    await imap.stop();
    throw error;
  });
  const { startLmtp } = await import('./lmtp/server.ts');
  const { startSmtp } = await import('./smtp/server.ts');
  const lmtp = await startLmtp(services, tls, {
    port: listenPort(config.lmtp, config.lmtp.port, ephemeral),
  }).catch(async (error: unknown) => {
    await Promise.all([imap.stop(), pop3.stop()]);
    throw error;
  });
  const smtp = await startSmtp(services, tls, {
    port: listenPort(config.smtp, config.smtp.port, ephemeral),
  }).catch(async (error: unknown) => {
    await Promise.all([imap.stop(), pop3.stop(), lmtp.stop()]);
    throw error;
  });
  // Sending: the queue's delivery worker, then submission feeding it.
  const { startOutbound } = await import('./outbound/index.ts');
  const outbound = startOutbound(services);
  const { startSubmission } = await import('./submission/server.ts');
  const submission = await startSubmission(services, tls, outbound.sink, {
    port: listenPort(config.submission, config.submission.port, ephemeral),
    tlsPort: listenPort(config.submission, config.submission.tls_port, ephemeral),
  }).catch(async (error: unknown) => {
    await Promise.all([imap.stop(), pop3.stop(), lmtp.stop(), smtp.stop(), outbound.worker.stop()]);
    throw error;
  });
  const { startManageSieve } = await import('./managesieve/server.ts');
  const managesieve = await startManageSieve(
    services,
    tls,
    listenPort(config.managesieve, config.managesieve.port, ephemeral),
  ).catch(async (error: unknown) => {
    await Promise.all([imap.stop(), pop3.stop(), lmtp.stop(), smtp.stop(), submission.stop()]);
    await outbound.worker.stop();
    throw error;
  });
  // Every worker serves HTTPS too: node:cluster shares the port as it does the mail ports.
  const { startWeb } = await import('./web/server.ts');
  const { accountSettings } = await import('./web/endpoints.ts');
  const { LocalDomains } = await import('./smtp/local-domains.ts');
  const web = await startWeb(
    {
      config,
      domains: new LocalDomains(store, config.hostname),
      account: (email) =>
        accountSettings(config.hostname, email, {
          imap: imap.listeners,
          pop3: pop3.listeners,
          submission: submission.listeners,
          smtp: smtp.listeners,
        }),
      tls,
    },
    tls,
    {
      host: config.web.host,
      port: listenPort(config.web, config.web.port, ephemeral),
      gate: services.gate,
      onError: (error) => logger.error({ err: error }, 'web request failed'),
    },
  ).catch(async (error: unknown) => {
    await Promise.all([
      imap.stop(),
      pop3.stop(),
      lmtp.stop(),
      smtp.stop(),
      submission.stop(),
      managesieve.stop(),
    ]);
    await outbound.worker.stop();
    throw error;
  });
  /** Stops every listener, then the outbound worker (at stop, or when a later step of the start fails). */
  const stopServices = async () => {
    await Promise.all(
      [imap, pop3, lmtp, smtp, submission, managesieve, web].map((service) => service.stop()),
    );
    await outbound.worker.stop();
  };
  // The admin side (ACME, the daily backup, import jobs, the admin API) runs in one process: worker
  // 1 with workers, else the server. The other workers never load it: acme-client and its HTTP
  // stack alone are some 10 MB of heap, paid per process for nothing (bench/idlers.ts).
  const lead = !worker || worker.slot === 1;
  const adminSide = lead ? await startAdminSide(config, store, tls, logger, events) : null;
  // With workers, worker 1 serves it, seeing every worker through the supervisor.
  if (worker) {
    worker.attach({
      sessions,
      events,
      rules,
      logs: worker.slot === 1 ? logs : null,
      delivered: () => ({ lmtp: lmtp.deliveredCount, smtp: smtp.deliveredCount }),
      applySpam: applySpamHere,
      journalAdvanced: () => follower.nudge(),
    });
    if (worker.slot === 1) {
      events.onSubscribers = (count) => worker.rpc.notify('cluster.events', { on: count > 0 });
    }
  }
  const admin =
    config.admin.port === 0 || !adminSide
      ? null
      : await adminSide
          .startAdmin(
            {
              config,
              store,
              logger,
              sessions: worker && cluster ? new cluster.ClusterSessions(worker.rpc) : sessions,
              totals: worker && cluster ? () => cluster.clusterTotals(worker.rpc) : undefined,
              rulesChanged: worker ? () => worker.rulesChanged() : undefined,
              async applySpam(spam) {
                await applySpamHere(spam);
                await worker?.spamChanged(spam);
              },
              events,
              rules,
              services: { imap, pop3, lmtp, smtp, submission, managesieve, web },
              outbound: outbound.worker,
              logs,
              certificates: tls.certificates,
              acme: adminSide.acme,
              backups: adminSide.backups,
              imports: adminSide.imports,
              startedAt,
              admin: null,
              guard,
            },
            {
              ...options.admin,
              host: config.admin.host,
              port: Math.max(portOf(config.admin.port, ephemeral), 0),
            },
          )
          .catch(async (error: unknown) => {
            await stopServices();
            await adminSide.stop();
            throw error;
          });
  logger.info(
    {
      version: VERSION,
      dataDir: config.data_dir,
      store: store.engine,
      imap: imap.listeners.map(
        (listener) => `${listener.host}:${listener.port}${listener.implicitTls ? ' (tls)' : ''}`,
      ),
      pop3: pop3.listeners.map(
        (listener) => `${listener.host}:${listener.port}${listener.implicitTls ? ' (tls)' : ''}`,
      ),
      lmtp: lmtp.listeners.map((listener) => `${listener.host}:${listener.port}`),
      smtp: smtp.listeners.map((listener) => `${listener.host}:${listener.port}`),
      submission: submission.listeners.map(
        (listener) => `${listener.host}:${listener.port}${listener.implicitTls ? ' (tls)' : ''}`,
      ),
      managesieve: managesieve.listeners.map((listener) => `${listener.host}:${listener.port}`),
      web: web.listeners.map((listener) => `${listener.host}:${listener.port} (tls)`),
      admin: admin ? `${admin.host}:${admin.port}` : 'off',
    },
    'mallard started',
  );
  return {
    config,
    logger,
    store,
    tls,
    rules,
    imap,
    pop3,
    lmtp,
    smtp,
    submission,
    managesieve,
    outbound: outbound.worker,
    web,
    sessions,
    events,
    admin,
    guard,
    gate: services.gate,
    acme: adminSide?.acme ?? null,
    async stop() {
      await admin?.stop();
      await adminSide?.stop();
      await stopServices();
      // Learning already queued reads from the store: let it finish before the store closes.
      await services.spamLearner?.settled();
      rules?.stop();
      services.mailboxStates.clear();
      await parsePool.close();
      follower.stop();
      await store.close();
      logger.info('mallard stopped');
      logger.flush();
    },
  };
}

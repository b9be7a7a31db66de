/**
 * What the admin API's handlers see: the parts of the running server they manage or report on.
 * Built by `startAdmin` from the composition root's objects; tests may build a smaller one.
 */
import type { Guard } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { RuleCounters, RuleHooks } from '../hooks/runner.ts';
import type { Logger } from '../log.ts';
import type { RunningListener } from '../net/listener.ts';
import type { Store } from '../store/types.ts';
import type { BackupService } from '../backup/service.ts';
import type { ImportJobs } from '../import/jobs.ts';
import type { AcmeApi } from './handlers/acme.ts';
import type { CertificateService } from './handlers/certificates.ts';
import type { EventBus } from './events.ts';
import type { LogBuffer } from './log-buffer.ts';
import type { SessionJson, SessionProtocol } from './schemas.ts';

/** A protocol service as the status route sees it. */
export interface ServiceView {
  listeners: readonly RunningListener[];
  /** LMTP and SMTP: messages stored since start. */
  deliveredCount?: number;
}

type Maybe<T> = T | Promise<T>;

/**
 * The live sessions the admin API shows and kicks: this process's registry (SessionRegistry), or,
 * in a worker of `mallard serve`, every worker's through the supervisor.
 */
export interface SessionDirectory {
  list(): Maybe<SessionJson[]>;
  get(id: string): Maybe<SessionJson | null>;
  counts(): Maybe<Record<SessionProtocol, number>>;
  ofUser(userId: string): Maybe<SessionJson[]>;
  kick(id: string, text?: string): Promise<boolean>;
  kickUser(userId: string, text: string): Promise<number>;
}

/** Figures counted by each worker of `mallard serve`, added up over all of them. */
export interface ClusterTotals {
  delivered: { lmtp: number; smtp: number };
  rules: Map<string, RuleCounters>;
}

export interface AdminDeps {
  config: Config;
  store: Store;
  logger: Logger;
  sessions: SessionDirectory;
  events: EventBus;
  /** The connection rules (counters, dry runs); null when the embedder replaced the hooks. */
  rules: RuleHooks | null;
  services: {
    imap: ServiceView;
    pop3: ServiceView;
    lmtp: ServiceView;
    smtp: ServiceView;
    submission?: ServiceView;
    /** ManageSieve (server/managesieve/). */
    managesieve?: ServiceView;
    /** The HTTPS server for client autoconfiguration (server/web/). */
    web?: ServiceView;
  };
  /** This process's outbound delivery worker, woken after a retry; absent in small test setups. */
  outbound?: { wake(): void };
  /** The log tail; null when the logger was supplied by the embedder without one. */
  logs: LogBuffer | null;
  /** Certificate management (server/tls); null until it exists: those routes answer 501. */
  certificates: CertificateService | null;
  /** Certificates from an ACME CA (server/acme); absent in small test setups: those routes answer 501. */
  acme?: AcmeApi | null;
  /** The daily backup (server/backup/service.ts); absent in small test setups: those routes answer 501. */
  backups?: Pick<BackupService, 'status' | 'runNow' | 'restoreNow' | 'cancelRestore'> | null;
  /** IMAP import jobs run by this process; absent in small test setups: those routes answer 501. */
  imports?: ImportJobs | null;
  startedAt: Date;
  /** Password guessing seen by the mail protocols (null: an embedder's test without one). */
  guard?: Pick<Guard, 'snapshot'> | null;
  /**
   * With worker processes: deliveries and rule verdicts of all of them (the `services` and
   * `rules` counters are this process's alone).
   */
  totals?: () => Promise<ClusterTotals>;
  /** With worker processes: the rules changed here, the others reload them before the answer. */
  rulesChanged?: () => Promise<void>;
  /**
   * Puts new spam settings in force now, in this process and (with workers) every other one; the
   * configuration file already holds them. Absent: they apply at the next start.
   */
  applySpam?: (spam: Config['spam']) => Promise<void>;
  /** Where the admin API itself listens (filled in once it does). */
  admin: { host: string; port: number } | null;
}

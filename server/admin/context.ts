/**
 * What the admin API's handlers see: the parts of the running server they manage or report on.
 * Built by `startAdmin` from the composition root's objects; tests may build a smaller one.
 */
import type { LoginGuard } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { RuleHooks } from '../hooks/runner.ts';
import type { Logger } from '../log.ts';
import type { RunningListener } from '../net/listener.ts';
import type { Store } from '../store/types.ts';
import type { AcmeApi } from './handlers/acme.ts';
import type { CertificateService } from './handlers/certificates.ts';
import type { EventBus } from './events.ts';
import type { LogBuffer } from './log-buffer.ts';
import type { SessionRegistry } from './sessions.ts';

/** A protocol service as the status route sees it. */
export interface ServiceView {
  listeners: readonly RunningListener[];
  /** LMTP and SMTP: messages stored since start. */
  deliveredCount?: number;
}

export interface AdminDeps {
  config: Config;
  store: Store;
  logger: Logger;
  sessions: SessionRegistry;
  events: EventBus;
  /** The connection rules (counters, dry runs); null when the embedder replaced the hooks. */
  rules: RuleHooks | null;
  services: {
    imap: ServiceView;
    pop3: ServiceView;
    lmtp: ServiceView;
    smtp: ServiceView;
    submission?: ServiceView;
  };
  /** This process's outbound delivery worker, woken after a retry; absent in small test setups. */
  outbound?: { wake(): void };
  /** The log tail; null when the logger was supplied by the embedder without one. */
  logs: LogBuffer | null;
  /** Certificate management (server/tls); null until it exists: those routes answer 501. */
  certificates: CertificateService | null;
  /** Certificates from an ACME CA (server/acme); absent in small test setups: those routes answer 501. */
  acme?: AcmeApi | null;
  startedAt: Date;
  /** Password guessing seen by the mail protocols (null: an embedder's test without one). */
  guard?: Pick<LoginGuard, 'snapshot'> | null;
  /** Where the admin API itself listens (filled in once it does). */
  admin: { host: string; port: number } | null;
}

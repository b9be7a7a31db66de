/**
 * The server configuration as the admin API shows it (`GET /api/settings`, secrets masked), saving
 * changes (`PUT /api/settings`, in force after a restart) and testing a MongoDB URI before using it.
 * Keys are the configuration file's (snake_case).
 */
import { api } from './client.ts';

export type StoreEngine = 'sqlite' | 'mongodb';
export type LogLevelSetting = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The part of the configuration the settings page shows (the server sends all of it). */
export interface SettingsJson {
  hostname: string;
  log_level: LogLevelSetting;
  store: { engine: StoreEngine; mongodb: { uri: string; local?: string; local_members?: number } };
  imap: { enabled?: boolean; host: string; port: number; tls_port: number };
  pop3: { enabled?: boolean; host: string; port: number; tls_port: number };
  lmtp: { enabled?: boolean; host: string; port: number };
  smtp: { enabled?: boolean; host: string; port: number };
  admin: { host: string; port: number };
  panel: { host: string; port: number };
  limits: { max_message_size: number; max_line_length: number };
  [key: string]: unknown;
}

/** Only the changed keys, nested as in the configuration file. */
export type SettingsPatch = {
  [K in keyof SettingsJson]?: SettingsJson[K] extends object ? Record<string, unknown> : SettingsJson[K];
};

export interface SavedSettings {
  /** The settings the next start will use. */
  settings: SettingsJson;
  restartRequired: boolean;
  /** The configuration file written. */
  file?: string;
  /** E.g. a key an environment variable overrides. */
  warnings?: string[];
}

export interface ConnectionTest {
  ok: boolean;
  detail: string;
  version?: string;
}

export const settingsApi = {
  get: () => api.get<SettingsJson>('/api/settings'),
  save: (patch: SettingsPatch) => api.put<SavedSettings>('/api/settings', patch),
  testConnection: (uri: string) => api.post<ConnectionTest>('/api/store/test-connection', { uri }),
};

/** One record sending needs (`GET /api/dns-records`), as it goes into a zone. */
export interface DnsRecordJson {
  purpose: 'MX' | 'SPF' | 'DKIM' | 'DMARC' | 'MTA-STS' | 'TLS-RPT' | 'SRV' | 'AUTOCONFIG' | 'AUTODISCOVER';
  name: string;
  type: 'MX' | 'TXT' | 'SRV' | 'CNAME';
  value: string;
}

export interface DnsRecordsJson {
  hostname: string;
  relay: string;
  domains: Array<{ domain: string; records: DnsRecordJson[] }>;
}

export const dnsApi = {
  records: () => api.get<DnsRecordsJson>('/api/dns-records'),
};

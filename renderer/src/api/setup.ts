/**
 * The first-run wizard (`/api/setup`): what is done, what is still missing, and the domain calls
 * its first step makes (`/api/domains`).
 */
import { api, seg } from './client.ts';

export type SetupStepId = 'domains' | 'public-name' | 'accounts' | 'certificate' | 'dns';

export interface SetupCheckJson {
  id: SetupStepId;
  ok: boolean;
  title: string;
  detail: string;
  /** The wizard step that fixes it. */
  step: number;
}

export interface SetupJson {
  completed: boolean;
  firstRun: boolean;
  hostname: string;
  domains: string[];
  steps: SetupStepId[];
  checks: SetupCheckJson[];
}

export interface DnsCheckRecordJson {
  name: string;
  type: string;
  status: 'ok' | 'missing' | 'wrong';
  expected?: string;
  found: string[];
  hint: string;
}

export const SETUP_KEY = ['setup'] as const;

export const setupApi = {
  get: () => api.get<SetupJson>('/api/setup'),
  setCompleted: (completed: boolean) => api.post<SetupJson>('/api/setup', { completed }),
  addDomain: (name: string) => api.post<unknown>('/api/domains', { name }),
  checkDns: (domain: string) =>
    api.post<{ ok: boolean; checks: DnsCheckRecordJson[] }>(`/api/domains/${seg(domain)}/dns-check`),
};

/** The checks still to do, in wizard order. */
export function missingChecks(setup: SetupJson | undefined): SetupCheckJson[] {
  return (setup?.checks ?? []).filter((check) => !check.ok);
}

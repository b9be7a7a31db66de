/**
 * Spam filtering settings (`PUT /api/spam/settings`, in force at once, no restart) and the rspamd
 * probe behind the Settings page's "Detect" button (`POST /api/spam/detect`).
 */
import { api } from './client.ts';

/** The `spam` section of the configuration, as GET /api/settings shows it (password masked). */
export interface SpamSettings {
  enabled: boolean;
  rspamd_url: string;
  rspamd_controller_url: string;
  rspamd_password: string;
  junk_score: number;
  reject_score: number;
  greylisting: boolean;
  greylist_delay: number;
  dnsbl: string[];
  dnsbl_score: number;
}

export interface RspamdFound {
  found: boolean;
  scanUrl: string;
  controllerUrl: string;
  version: string;
  actions: Record<string, number>;
  detail: string;
}

export const spamApi = {
  save: (patch: Partial<SpamSettings>) =>
    api.put<{ spam: SpamSettings; warnings: string[] }>('/api/spam/settings', patch),
  detect: (given: { url?: string; controllerUrl?: string }) =>
    api.post<RspamdFound>('/api/spam/detect', given),
};

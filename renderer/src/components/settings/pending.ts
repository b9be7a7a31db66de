/**
 * Settings saved but not yet in force. `GET /api/settings` answers with the configuration the
 * running server uses, so after a save the page remembers what was written, tied to the server
 * process that was running then: a reload still shows the saved values and the restart offer, and
 * once that process is gone (restarted, so the file is in force) the memory is dropped.
 */
import type { SavedSettings, SettingsJson } from '../../api/settings.ts';

const KEY = 'mallard-pending-settings';

export interface PendingSettings {
  settings: SettingsJson;
  /** The server process that was running when they were saved (supervisor startedAt). */
  processStartedAt: string | null;
  savedAt: string;
  file?: string;
  warnings: string[];
}

export function rememberPending(saved: SavedSettings, processStartedAt: string | null): PendingSettings {
  const pending: PendingSettings = {
    settings: saved.settings,
    processStartedAt,
    savedAt: new Date().toISOString(),
    file: saved.file,
    warnings: saved.warnings ?? [],
  };
  try {
    localStorage.setItem(KEY, JSON.stringify(pending));
  } catch {
    // Storage full or off: the notice still shows until the page is left.
  }
  return pending;
}

export function forgetPending(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing to forget.
  }
}

/** The remembered settings when the same server process still runs; otherwise none (and forgotten). */
export function pendingFor(processStartedAt: string | null): PendingSettings | null {
  let pending: PendingSettings | null = null;
  try {
    const text = localStorage.getItem(KEY);
    pending = text ? (JSON.parse(text) as PendingSettings) : null;
  } catch {
    pending = null;
  }
  if (!pending) return null;
  if (pending.processStartedAt !== processStartedAt || typeof pending.settings !== 'object') {
    forgetPending();
    return null;
  }
  return pending;
}

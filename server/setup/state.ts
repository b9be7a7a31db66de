/**
 * What the first-run wizard remembers: whether the admin finished (or dismissed) it, and the last
 * "Check DNS" result per domain, so the dashboard can say "DNS not checked". A small JSON file in
 * the data directory: every process of this server shares it, and it survives restarts.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DnsCheckMark {
  /** ISO time of the check. */
  at: string;
  /** Every record found as expected. */
  ok: boolean;
}

export interface SetupState {
  completed: boolean;
  dnsChecks: Record<string, DnsCheckMark>;
}

const FILE = 'setup.json';

function fileOf(dataDir: string): string {
  return path.join(dataDir, FILE);
}

export function readSetupState(dataDir: string): SetupState {
  try {
    const parsed = JSON.parse(fs.readFileSync(fileOf(dataDir), 'utf8')) as Partial<SetupState>;
    return {
      completed: parsed.completed === true,
      dnsChecks: typeof parsed.dnsChecks === 'object' && parsed.dnsChecks !== null ? parsed.dnsChecks : {},
    };
  } catch {
    // No file yet (a new install) or one cut short: nothing is done yet.
    return { completed: false, dnsChecks: {} };
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
function writeSetupState(dataDir: string, state: SetupState): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${fileOf(dataDir)}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, fileOf(dataDir));
}

export function markSetupCompleted(dataDir: string, completed: boolean): SetupState {
  const state = { ...readSetupState(dataDir), completed };
  writeSetupState(dataDir, state);
  return state;
}

/** Called by "Check DNS" with the outcome for one domain. */
export function markDnsChecked(dataDir: string, domain: string, ok: boolean, at = new Date()): void {
  const state = readSetupState(dataDir);
  state.dnsChecks[domain.toLowerCase()] = { at: at.toISOString(), ok };
  writeSetupState(dataDir, state);
}

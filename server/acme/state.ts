/**
 * What the ACME part remembers between runs and restarts, in `<data_dir>/acme/state.json` (no
 * secrets): which stored certificate it issued, the last attempt and its error, the retry count,
 * and the operator's acceptance of the terms when given through the API or CLI.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The ACME folder of the data directory (owner-only): the account key, accounts and this state. */
export function acmeDir(dataDir: string): string {
  const dir = path.join(dataDir, 'acme');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  return dir;
}

export interface AcmeState {
  /** The certificate store's id of the certificate this part issued last. */
  certificateId: string | null;
  names: string[];
  notAfter: string | null;
  issuedAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  /** Failed attempts since the last success (drives the retry backoff). */
  failures: number;
  nextAttemptAt: string | null;
  /** When the operator accepted the terms through the API or CLI (config: acme.accept_terms). */
  termsAcceptedAt: string | null;
}

const EMPTY: AcmeState = {
  certificateId: null,
  names: [],
  notAfter: null,
  issuedAt: null,
  lastAttemptAt: null,
  lastError: null,
  failures: 0,
  nextAttemptAt: null,
  termsAcceptedAt: null,
};

function stateFile(dataDir: string): string {
  return path.join(acmeDir(dataDir), 'state.json');
}

export function readState(dataDir: string): AcmeState {
  try {
    return { ...EMPTY, ...(JSON.parse(fs.readFileSync(stateFile(dataDir), 'utf8')) as Partial<AcmeState>) };
  } catch {
    return { ...EMPTY };
  }
}

export function writeState(dataDir: string, state: AcmeState): void {
  const file = stateFile(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/**
 * The ACME account: its key is made once and kept owner-only in `<data_dir>/acme/account.key`
 * (the directory is 0700); the account itself is registered (or found again: RFC 8555 7.3.1 answers
 * an existing key with its account) at the start of each run, with the operator's contact address
 * and only after the operator accepted the CA's terms.
 *
 * `acme.ca_file` adds CA certificates to trust for the directory's own HTTPS (a private ACME server;
 * the tests' pebble). acme-client sends through one shared axios instance, so the extra trust is
 * given per directory origin by a request interceptor, not to every HTTPS request of the process.
 */
import acme from 'acme-client';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { AcmeError } from './errors.ts';
import { acmeDir } from './state.ts';

const agents = new Map<string, https.Agent>();
let interceptorInstalled = false;

// acme-client's axios instance waits forever by default: a CA that stops answering must fail the
// run (and be retried later), not hold it open.
acme.axios.defaults.timeout = 30_000;
// It also retries a refused or reset connection five times, 5 s, 10 s … 25 s apart (75 s): one retry
// is enough inside a run, the renewal check's own backoff does the rest.
Object.assign((acme.axios.defaults as unknown as { acmeSettings: object }).acmeSettings, {
  retryMaxAttempts: 2,
  retryDefaultDelay: 2,
});
const TERMS_LOOKUP_MS = 5_000;

/** Trusts `caPem` (besides the system roots) for HTTPS to `directoryUrl`'s origin. */
export function trustForDirectory(directoryUrl: string, caPem: string): void {
  agents.set(
    new URL(directoryUrl).origin,
    new https.Agent({ ca: [...tls.rootCertificates, caPem], keepAlive: false }),
  );
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  acme.axios.interceptors.request.use((request) => {
    if (request.url) {
      const agent = agents.get(new URL(request.url).origin);
      if (agent) request.httpsAgent = agent;
    }
    return request;
  });
}

// In state.ts, which the ACME service reads without loading acme-client.
export { acmeDir } from './state.ts';

/** The account key (PEM), made on first use: ECDSA P-256 (ES256, which every ACME CA takes). */
export async function accountKey(dataDir: string): Promise<string> {
  const file = path.join(acmeDir(dataDir), 'account.key');
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
  // 'wx': two processes starting at once must not each write a key and register twice.
  try {
    fs.writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8');
    throw error;
  }
  return key;
}

export interface AccountSettings {
  dataDir: string;
  directoryUrl: string;
  email: string;
  termsAccepted: boolean;
  caFile: string;
}

interface KnownAccount {
  url: string;
  email: string;
}

/** `<data_dir>/acme/accounts.json`: the account URL per directory (no secrets), so a run need not register again. */
function accountsFile(dataDir: string): string {
  return path.join(acmeDir(dataDir), 'accounts.json');
}

function knownAccounts(dataDir: string): Record<string, KnownAccount> {
  try {
    return JSON.parse(fs.readFileSync(accountsFile(dataDir), 'utf8')) as Record<string, KnownAccount>;
  } catch {
    return {};
  }
}

function rememberAccount(dataDir: string, directoryUrl: string, account: KnownAccount): void {
  const accounts = { ...knownAccounts(dataDir), [directoryUrl]: account };
  fs.writeFileSync(accountsFile(dataDir), JSON.stringify(accounts, null, 2) + '\n', { mode: 0o600 });
}

async function client(settings: AccountSettings, accountUrl?: string): Promise<acme.Client> {
  if (settings.caFile) trustForDirectory(settings.directoryUrl, fs.readFileSync(settings.caFile, 'utf8'));
  return new acme.Client({
    directoryUrl: settings.directoryUrl,
    accountKey: await accountKey(settings.dataDir),
    ...(accountUrl ? { accountUrl } : {}),
    backoffAttempts: 10,
    backoffMin: 500,
    backoffMax: 10_000,
  });
}

/** Why an order cannot start yet, naming the CA's terms (their URL when the directory answers). */
export async function termsRefusal(settings: AccountSettings): Promise<string> {
  // Only to name the terms in the message: a directory that does not answer soon is not waited for.
  const lookup = (await client(settings)).getTermsOfServiceUrl().catch(() => null);
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, TERMS_LOOKUP_MS, null).unref());
  const terms = await Promise.race([lookup, timeout]);
  return `the CA's terms of service must be accepted first${terms ? ` (${terms})` : ''}: set acme.accept_terms, or pass acceptTerms / --accept-terms`;
}

/**
 * Fetches the directory once with Node's own HTTPS: when the CA cannot be reached, acme-client
 * retries and then fails with a TypeError of its own ("reading 'config'"), which tells a user
 * nothing; this says what went wrong (refused, unknown name, untrusted certificate, an HTTP status).
 */
export function checkDirectory(settings: AccountSettings): Promise<void> {
  const url = new URL(settings.directoryUrl);
  const agent = agents.get(url.origin);
  const get = url.protocol === 'http:' ? http.get : https.get;
  return new Promise((resolve, reject) => {
    const request = get(url, { ...(agent ? { agent } : {}), timeout: 15_000 }, (response) => {
      response.resume();
      if (response.statusCode === 200) resolve();
      else reject(new Error(`the ACME directory ${url.href} answered HTTP ${response.statusCode}`));
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 15 s')));
    request.on('error', (error) =>
      reject(new Error(`cannot reach the ACME directory ${url.href}: ${error.message}`)),
    );
  });
}

/** A client with its account registered; throws AcmeError terms_not_accepted without the operator's consent. */
export async function registeredClient(settings: AccountSettings): Promise<acme.Client> {
  if (!settings.termsAccepted) throw new AcmeError('terms_not_accepted', await termsRefusal(settings));
  if (settings.caFile) trustForDirectory(settings.directoryUrl, fs.readFileSync(settings.caFile, 'utf8'));
  await checkDirectory(settings);
  const known = knownAccounts(settings.dataDir)[settings.directoryUrl];
  const contact = settings.email ? [`mailto:${settings.email}`] : [];
  const acmeClient = await client(settings, known?.url);
  if (!known) {
    await acmeClient.createAccount({ termsOfServiceAgreed: true, contact });
  } else if (known.email !== settings.email) {
    await acmeClient.updateAccount({ contact });
  } else {
    return acmeClient;
  }
  rememberAccount(settings.dataDir, settings.directoryUrl, {
    url: acmeClient.getAccountUrl(),
    email: settings.email,
  });
  return acmeClient;
}

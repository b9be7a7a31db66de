/** The management backend on the store opened in this process (no server runs, or --offline). */
import { missingLocalDomain } from '../../smtp/local-domains.ts';
import { isStoreError } from '../../store/errors.ts';
import type { Config } from '../../config/schema.ts';
import { domainProblem } from '../../store/domains.ts';
import type { Address, Domain, Store, User } from '../../store/types.ts';
import { checkScript } from '../../sieve/index.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { requireUser } from '../context.ts';
import type { SpamListEntry } from '../../store/spam.ts';
import {
  toDomainRecord,
  toUserRecord,
  type DomainRecord,
  type AddressRecord,
  type Backend,
  type SieveScriptRecord,
  type SpamListRecord,
  type UserRecord,
} from './types.ts';

// Loaded by the commands that use them: `user list` need not load argon2, pino, the rules engine,
// or DKIM signing (mailauth, a megabyte of code) that the DNS records name.
const hashPassword = async (password: string) =>
  (await import('../../auth/password.ts')).hashPassword(password);

export function userRecord(user: User): UserRecord {
  return toUserRecord({ ...user, createdAt: user.createdAt.toISOString() });
}

const addressRecord = (address: Address): AddressRecord => ({ ...address });
const sieveScriptRecord = (script: {
  name: string;
  active: boolean;
  content: string;
  updatedAt: Date;
}): SieveScriptRecord => ({
  name: script.name,
  active: script.active,
  content: script.content,
  updatedAt: script.updatedAt.toISOString(),
});

const spamListRecord = (entry: SpamListEntry): SpamListRecord => ({
  list: entry.list,
  pattern: entry.pattern,
  createdAt: entry.createdAt.toISOString(),
});

/** Runs a store call on one rule, turning "no such rule" into a clear error. */
async function onRule<T>(id: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) throw new CliError(`no such rule: ${id}`, EXIT.dataError);
    throw error;
  }
}

/** Users and aliases go only into local domains (the admin API's unknown_domain). */
async function requireLocalDomainOf(store: Store, address: string): Promise<void> {
  const domain = await missingLocalDomain(store, address);
  if (domain === null) return;
  throw new CliError(
    `${domain} is not a local domain: add it first with mallard domain add ${domain}`,
    EXIT.dataError,
  );
}

async function requireDomain(store: Store, name: string): Promise<Domain> {
  const domain = await store.getDomain(name);
  if (!domain) throw new CliError(`no such domain: ${name}`, EXIT.dataError);
  return domain;
}

const domainRecord = (domain: Domain): DomainRecord =>
  toDomainRecord({ ...domain, createdAt: domain.createdAt.toISOString() });

/**
 * The filters' model (zod schemas built when it loads, some 8 ms), only for the commands that use
 * it: every other command of the admin script starts without it.
 */
const filters = () => import('../../sieve/filters/index.ts');

export function storeBackend(store: Store, config: Config): Backend {
  return {
    via: 'store',
    async createUser({ username, password, name, quotaBytes }) {
      await requireLocalDomainOf(store, username);
      const user = await store.createUser({
        username,
        passwordHash: await hashPassword(password),
        name,
        quotaBytes,
      });
      return userRecord(user);
    },
    async listUsers(search) {
      const { users } = await store.listUsers({ search, limit: 1_000_000 });
      return users.map(userRecord);
    },
    async getUser(username) {
      return userRecord(await requireUser(store, username));
    },
    async setPassword(username, password) {
      const user = await requireUser(store, username);
      await store.setPasswordHash(user.id, await hashPassword(password));
      return userRecord(user);
    },
    async setDisabled(username, disabled) {
      const user = await requireUser(store, username);
      return userRecord(await store.updateUser(user.id, { disabled }));
    },
    async setSaveSentCopy(username, on) {
      const user = await requireUser(store, username);
      return userRecord(await store.updateUser(user.id, { saveSentCopy: on }));
    },
    async deleteUser(username) {
      const user = await requireUser(store, username);
      await store.deleteUser(user.id);
      return userRecord(user);
    },
    listDomains: async () => (await store.listDomains()).map(domainRecord),
    getDomain: async (name) => domainRecord(await requireDomain(store, name)),
    async createDomain(name) {
      const problem = domainProblem(name);
      if (problem) throw new CliError(problem, EXIT.dataError);
      return domainRecord(await store.createDomain({ name }));
    },
    async updateDomain(name, patch) {
      const domain = await requireDomain(store, name);
      return domainRecord(await store.updateDomain(domain.name, patch));
    },
    async deleteDomain(name) {
      await store.deleteDomain((await requireDomain(store, name)).name);
    },
    async domainDns(name) {
      const { publishedRecords } = await import('../../dns/records.ts');
      return publishedRecords(config, await requireDomain(store, name));
    },
    async checkDomainDns(name) {
      const { publishedRecords } = await import('../../dns/records.ts');
      const { checkRecords, checkResolver } = await import('../../dns/check.ts');
      const records = publishedRecords(config, await requireDomain(store, name));
      return checkRecords(checkResolver(config.dns.servers), records, config.hostname);
    },
    async listAddresses(username) {
      const user = await requireUser(store, username);
      return (await store.listAddresses(user.id)).map(addressRecord);
    },
    async addAddress(username, address) {
      const user = await requireUser(store, username);
      await requireLocalDomainOf(store, address);
      return addressRecord(await store.addAddress(user.id, address));
    },
    removeAddress: (address) => store.removeAddress(address),
    async listSpamEntries(username) {
      const user = await requireUser(store, username);
      return (await store.listSpamEntries(user.id)).map(spamListRecord);
    },
    async setSpamEntry(username, list, pattern) {
      const user = await requireUser(store, username);
      return spamListRecord(await store.setSpamEntry(user.id, list, pattern));
    },
    async removeSpamEntry(username, pattern) {
      const user = await requireUser(store, username);
      await store.removeSpamEntry(user.id, pattern);
    },
    async listSieveScripts(username) {
      const user = await requireUser(store, username);
      return (await store.listSieveScripts(user.id)).map(sieveScriptRecord);
    },
    async putSieveScript(username, name, content) {
      const user = await requireUser(store, username);
      const scripts = new Map(
        (await store.listSieveScripts(user.id)).map((script) => [script.name, script.content]),
      );
      const problem = checkScript(content, {
        loadScript: (included, location) =>
          location === 'personal' ? (scripts.get(included) ?? null) : null,
      });
      if (problem !== null) throw new CliError(problem.message, EXIT.dataError);
      return sieveScriptRecord(await store.putSieveScript(user.id, name, content));
    },
    async activateSieveScript(username, name) {
      const user = await requireUser(store, username);
      await store.activateSieveScript(user.id, name);
    },
    async getFilters(username) {
      const { loadFilters } = await filters();
      return loadFilters(store, await requireUser(store, username));
    },
    async putFilters(username, settings, overwrite) {
      const { FiltersConflict, saveFilters } = await filters();
      const user = await requireUser(store, username);
      try {
        return await saveFilters(store, user, settings, overwrite);
      } catch (error) {
        if (error instanceof FiltersConflict) throw new CliError(error.message, EXIT.dataError);
        throw error;
      }
    },
    listRules: () => store.listRules(),
    createRule: (rule) => store.createRule(rule),
    deleteRule: (id) => onRule(id, () => store.deleteRule(id)),
    moveRule: (id, position) => onRule(id, () => store.moveRule(id, position)),
    setRuleEnabled: (id, enabled) => onRule(id, () => store.updateRule(id, { enabled })),
    async testRules(address, protocol, options) {
      // Only failures of the rules themselves are worth showing here.
      const { createRuleHooks } = await import('../../hooks/runner.ts');
      const { createLogger } = await import('../../log.ts');
      const hooks = createRuleHooks({ store, logger: createLogger('error', process.stderr), pollMs: 0 });
      try {
        await hooks.reload();
        return await hooks.test(address, protocol, options);
      } finally {
        hooks.stop();
      }
    },
  };
}

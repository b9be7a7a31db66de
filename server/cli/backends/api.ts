/**
 * The management backend on a running server's admin API. The API names users by id, so a
 * username is looked up first (an exact match among the search results); answers are mapped to
 * the records the store backend gives, so the output does not depend on the path taken.
 */
import type { DomainJson, RuleJson, UserDetailJson, UserJson } from '../../admin/schemas.ts';
import type { RecordCheck } from '../../dns/check.ts';
import type { DnsRecord } from '../../dns/records.ts';
import type { RuleDecision, RuleTestResult } from '../../hooks/runner.ts';
import type { Protocol } from '../../hooks/types.ts';
import type { AddressKind, ConnectionRule } from '../../store/types.ts';
import type { UserFilters } from '../../sieve/filters/index.ts';
import type { AdminClient } from '../admin-client.ts';
import { CliError, EXIT } from '../cli-error.ts';
import {
  toDomainRecord,
  toUserRecord,
  type AddressRecord,
  type Backend,
  type SieveScriptRecord,
  type SpamListRecord,
  type UserRecord,
} from './types.ts';

const PAGE = 500;
const USER = { notFound: EXIT.noUser };

interface UserList {
  users: UserJson[];
  total: number;
}

interface ApiDecision {
  allow: boolean;
  ruleId: string | null;
  reason: string | null;
  error: string | null;
}

const userRecord = (user: UserJson): UserRecord => toUserRecord(user);

/** The API's rule without its verdict counters, dates as Dates: what the store gives. */
function ruleOf({ counters: _counters, createdAt, updatedAt, ...rule }: RuleJson): ConnectionRule {
  return {
    ...rule,
    kind: rule.kind as ConnectionRule['kind'],
    protocols: rule.protocols as ConnectionRule['protocols'],
    createdAt: new Date(createdAt),
    updatedAt: new Date(updatedAt),
  };
}

const path = encodeURIComponent;

export function apiBackend(api: AdminClient): Backend {
  async function allUsers(search?: string): Promise<UserJson[]> {
    const users: UserJson[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
      if (search) query.set('search', search);
      const page = await api.request<UserList>('GET', `/api/users?${query}`);
      users.push(...page.users);
      if (page.users.length < PAGE || users.length >= page.total) return users;
    }
  }

  async function findUser(username: string): Promise<UserJson> {
    const wanted = username.trim().toLowerCase();
    const user = (await allUsers(wanted)).find((candidate) => candidate.username === wanted);
    if (!user) throw new CliError(`no such user: ${username}`, EXIT.noUser);
    return user;
  }

  async function addressesOf(user: { id: string }): Promise<AddressRecord[]> {
    const { addresses } = await api.request<{ addresses: Array<{ address: string; kind: AddressKind }> }>(
      'GET',
      `/api/users/${path(user.id)}/aliases`,
      undefined,
      USER,
    );
    return addresses.map((address) => ({ address: address.address, userId: user.id, kind: address.kind }));
  }

  async function updateUser(username: string, patch: Record<string, unknown>): Promise<UserRecord> {
    const user = await findUser(username);
    return userRecord(await api.request<UserJson>('PATCH', `/api/users/${path(user.id)}`, patch, USER));
  }

  return {
    via: 'api',
    async createUser(input) {
      const { user } = await api.request<{ user: UserJson }>('POST', '/api/users', input);
      return userRecord(user);
    },
    async listUsers(search) {
      return (await allUsers(search)).map(userRecord);
    },
    async getUser(username) {
      const user = await findUser(username);
      return userRecord(
        await api.request<UserDetailJson>('GET', `/api/users/${path(user.id)}`, undefined, USER),
      );
    },
    setPassword: (username, password) => updateUser(username, { password }),
    setDisabled: (username, disabled) => updateUser(username, { disabled }),
    setSaveSentCopy: (username, on) => updateUser(username, { saveSentCopy: on }),
    async deleteUser(username) {
      const user = await findUser(username);
      await api.request('DELETE', `/api/users/${path(user.id)}`, undefined, USER);
      return userRecord(user);
    },
    async listDomains() {
      const { domains } = await api.request<{ domains: DomainJson[] }>('GET', '/api/domains');
      return domains.map(toDomainRecord);
    },
    async getDomain(name) {
      const { domain } = await api.request<{ domain: DomainJson }>('GET', `/api/domains/${path(name)}`);
      return toDomainRecord(domain);
    },
    async createDomain(name) {
      const { domain } = await api.request<{ domain: DomainJson }>('POST', '/api/domains', { name });
      return toDomainRecord(domain);
    },
    async updateDomain(name, patch) {
      const { domain } = await api.request<{ domain: DomainJson }>(
        'PATCH',
        `/api/domains/${path(name)}`,
        patch,
      );
      return toDomainRecord(domain);
    },
    async deleteDomain(name) {
      await api.request('DELETE', `/api/domains/${path(name)}`);
    },
    async domainDns(name) {
      return (await api.request<{ records: DnsRecord[] }>('GET', `/api/domains/${path(name)}/dns`)).records;
    },
    async checkDomainDns(name) {
      return (await api.request<{ checks: RecordCheck[] }>('POST', `/api/domains/${path(name)}/dns-check`))
        .checks;
    },
    async listAddresses(username) {
      return addressesOf(await findUser(username));
    },
    async listSpamEntries(username) {
      const user = await findUser(username);
      const { entries } = await api.request<{ entries: SpamListRecord[] }>(
        'GET',
        `/api/users/${path(user.id)}/spam-lists`,
        undefined,
        USER,
      );
      return entries;
    },
    async setSpamEntry(username, list, pattern) {
      const user = await findUser(username);
      return api.request<SpamListRecord>(
        'POST',
        `/api/users/${path(user.id)}/spam-lists`,
        { list, pattern },
        USER,
      );
    },
    async removeSpamEntry(username, pattern) {
      const user = await findUser(username);
      await api.request('DELETE', `/api/users/${path(user.id)}/spam-lists/${path(pattern)}`, undefined, USER);
    },
    async listSieveScripts(username) {
      const user = await findUser(username);
      const { scripts } = await api.request<{ scripts: SieveScriptRecord[] }>(
        'GET',
        `/api/users/${path(user.id)}/sieve-scripts`,
        undefined,
        USER,
      );
      return scripts;
    },
    async putSieveScript(username, name, content) {
      const user = await findUser(username);
      return api.request<SieveScriptRecord>(
        'PUT',
        `/api/users/${path(user.id)}/sieve-scripts/${path(name)}`,
        { content },
        USER,
      );
    },
    async activateSieveScript(username, name) {
      const user = await findUser(username);
      await api.request(
        'POST',
        `/api/users/${path(user.id)}/sieve-scripts/${path(name)}/activate`,
        undefined,
        USER,
      );
    },
    async getFilters(username) {
      const user = await findUser(username);
      return api.request<UserFilters>('GET', `/api/users/${path(user.id)}/filters`, undefined, USER);
    },
    async putFilters(username, settings, overwrite) {
      const user = await findUser(username);
      return api.request<UserFilters>(
        'PUT',
        `/api/users/${path(user.id)}/filters`,
        { ...settings, overwrite },
        USER,
      );
    },
    async addAddress(username, address) {
      const user = await findUser(username);
      const added = await api.request<{ address: string; kind: AddressKind }>(
        'POST',
        `/api/users/${path(user.id)}/aliases`,
        { address },
        USER,
      );
      return { address: added.address, userId: user.id, kind: added.kind };
    },
    async removeAddress(address) {
      // The API removes an address through its user: find the owner among all users.
      const wanted = address.trim().toLowerCase();
      for (const user of await allUsers()) {
        if (!(await addressesOf(user)).some((candidate) => candidate.address === wanted)) continue;
        await api.request('DELETE', `/api/users/${path(user.id)}/aliases/${path(wanted)}`, undefined, USER);
        return;
      }
      throw new CliError(`no such address ${wanted}`, EXIT.noUser);
    },
    async listRules() {
      const { rules } = await api.request<{ rules: RuleJson[] }>('GET', '/api/rules');
      return rules.map(ruleOf);
    },
    async createRule(rule) {
      return ruleOf(await api.request<RuleJson>('POST', '/api/rules', rule));
    },
    async deleteRule(id) {
      await onRule(id, () => api.request('DELETE', `/api/rules/${path(id)}`));
    },
    async moveRule(id, position) {
      return ruleOf(
        await onRule(id, () => api.request<RuleJson>('POST', `/api/rules/${path(id)}/move`, { position })),
      );
    },
    async setRuleEnabled(id, enabled) {
      return ruleOf(
        await onRule(id, () => api.request<RuleJson>('PATCH', `/api/rules/${path(id)}`, { enabled })),
      );
    },
    async testRules(address, protocol, options) {
      const result = await api.request<{
        address: string;
        protocol: Protocol;
        connect: ApiDecision;
        auth: ApiDecision;
      }>('POST', '/api/rules/test', { address, protocol, ...options });
      const rules = await this.listRules();
      const decision = (answer: ApiDecision): RuleDecision => ({
        allow: answer.allow,
        rule: rules.find((rule) => rule.id === answer.ruleId) ?? null,
        reason: answer.reason,
        error: answer.error,
      });
      return {
        address: result.address,
        protocol: result.protocol,
        connect: decision(result.connect),
        auth: decision(result.auth),
      } satisfies RuleTestResult;
    },
  };
}

/** "no such rule: ID" as the store backend says it (the API says "no such rule ID"). */
async function onRule<T>(id: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError && /^no such rule/.test(error.message))
      throw new CliError(`no such rule: ${id}`, EXIT.dataError);
    throw error;
  }
}

/**
 * What the management commands need, with two implementations: `api.ts` (a running server's admin
 * API) and `store.ts` (the store opened in this process). Both return the same plain records, so
 * a command prints the same lines and JSON whichever answered.
 */
import type { RecordCheck } from '../../dns/check.ts';
import type { DnsRecord } from '../../dns/records.ts';
import type { RuleTestResult } from '../../hooks/runner.ts';
import type { FilterSettings, UserFilters } from '../../sieve/filters/index.ts';
import type { AddressKind, ConnectionRule, NewConnectionRule, RuleProtocol } from '../../store/types.ts';

/** A user as printed: the store's fields, dates as ISO strings. */
export interface UserRecord {
  id: string;
  username: string;
  name: string;
  disabled: boolean;
  quotaBytes: number;
  usedBytes: number;
  saveSentCopy: boolean;
  createdAt: string;
}

/** A user's fields in one order, whichever backend read them, so that `--json` prints the same. */
export function toUserRecord(user: UserRecord): UserRecord {
  const { id, username, name, disabled, quotaBytes, usedBytes, saveSentCopy, createdAt } = user;
  return { id, username, name, disabled, quotaBytes, usedBytes, saveSentCopy, createdAt };
}

/** A mail domain as printed. */
export interface DomainRecord {
  name: string;
  catchAll: string | null;
  dkim: boolean;
  createdAt: string;
}

/** A domain's fields in one order, whichever backend read them. */
export function toDomainRecord(domain: DomainRecord): DomainRecord {
  const { name, catchAll, dkim, createdAt } = domain;
  return { name, catchAll, dkim, createdAt };
}

export interface AddressRecord {
  address: string;
  userId: string;
  kind: AddressKind;
}

/** An entry of a user's spam allow or block list. */
export interface SpamListRecord {
  list: 'allow' | 'block';
  pattern: string;
  createdAt: string;
}

/** A user's Sieve script. */
export interface SieveScriptRecord {
  name: string;
  active: boolean;
  content: string;
  updatedAt: string;
}

export interface NewUserInput {
  username: string;
  password: string;
  name?: string;
  quotaBytes?: number;
}

export interface Backend {
  readonly via: 'api' | 'store';
  createUser(input: NewUserInput): Promise<UserRecord>;
  listUsers(search?: string): Promise<UserRecord[]>;
  /** 67 (no such user) when missing. */
  getUser(username: string): Promise<UserRecord>;
  setPassword(username: string, password: string): Promise<UserRecord>;
  setDisabled(username: string, disabled: boolean): Promise<UserRecord>;
  /** "Save a copy to Sent" for mail the user submits. */
  setSaveSentCopy(username: string, on: boolean): Promise<UserRecord>;
  deleteUser(username: string): Promise<UserRecord>;

  listDomains(): Promise<DomainRecord[]>;
  /** 65 when missing. */
  getDomain(name: string): Promise<DomainRecord>;
  createDomain(name: string): Promise<DomainRecord>;
  updateDomain(name: string, patch: { catchAll?: string | null; dkim?: boolean }): Promise<DomainRecord>;
  /** 65 while users or aliases are in it. */
  deleteDomain(name: string): Promise<void>;
  domainDns(name: string): Promise<DnsRecord[]>;
  checkDomainDns(name: string): Promise<RecordCheck[]>;

  listAddresses(username: string): Promise<AddressRecord[]>;
  addAddress(username: string, address: string): Promise<AddressRecord>;
  removeAddress(address: string): Promise<void>;

  listSpamEntries(username: string): Promise<SpamListRecord[]>;
  setSpamEntry(username: string, list: 'allow' | 'block', pattern: string): Promise<SpamListRecord>;
  removeSpamEntry(username: string, pattern: string): Promise<void>;

  listSieveScripts(username: string): Promise<SieveScriptRecord[]>;
  /** Refuses (65, with line and column) a script that does not compile. */
  putSieveScript(username: string, name: string, content: string): Promise<SieveScriptRecord>;
  activateSieveScript(username: string, name: string): Promise<void>;
  /** The Filters page's settings (server/sieve/filters) and whether they are in force. */
  getFilters(username: string): Promise<UserFilters>;
  /** Saves them as the active script; refuses (65) to replace a hand-written one unless overwrite. */
  putFilters(username: string, settings: FilterSettings, overwrite: boolean): Promise<UserFilters>;

  listRules(): Promise<ConnectionRule[]>;
  createRule(rule: NewConnectionRule): Promise<ConnectionRule>;
  deleteRule(id: string): Promise<void>;
  moveRule(id: string, position: number): Promise<ConnectionRule>;
  setRuleEnabled(id: string, enabled: boolean): Promise<ConnectionRule>;
  testRules(
    address: string,
    protocol: RuleProtocol,
    options: { secure: boolean; username: string },
  ): Promise<RuleTestResult>;
}

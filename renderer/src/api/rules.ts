/** Typed calls for connection rules (/api/rules). */
import type { RuleJson, SessionProtocol } from '../../../server/admin/schemas.ts';
import { api, seg } from './client.ts';

export type Rule = RuleJson;
export type RuleKind = 'allow' | 'deny' | 'max-conn' | 'rate' | 'lockout' | 'require-tls';
export type RuleProtocol = SessionProtocol;

export const RULE_KINDS: readonly RuleKind[] = [
  'allow',
  'deny',
  'max-conn',
  'rate',
  'lockout',
  'require-tls',
];
export const RULE_PROTOCOLS: readonly RuleProtocol[] = [
  'imap',
  'pop3',
  'lmtp',
  'smtp',
  'submission',
  'managesieve',
];

export interface RuleInput {
  kind: RuleKind;
  cidrs?: string[];
  limit?: number | null;
  windowSeconds?: number | null;
  protocols?: RuleProtocol[];
  enabled?: boolean;
  note?: string;
}

export interface RuleDecision {
  allow: boolean;
  ruleId: string | null;
  reason: string | null;
  error: string | null;
}

export interface RuleTestResult {
  address: string;
  protocol: RuleProtocol;
  connect: RuleDecision;
  auth: RuleDecision;
}

export interface RuleTestInput {
  address: string;
  protocol: RuleProtocol;
  username?: string;
  secure?: boolean;
}

export const rulesApi = {
  list: () => api.get<{ rules: Rule[] }>('/api/rules').then((result) => result.rules),
  create: (input: RuleInput & { position?: number }) => api.post<Rule>('/api/rules', input),
  update: (id: string, patch: Partial<RuleInput>) => api.patch<Rule>(`/api/rules/${seg(id)}`, patch),
  remove: (id: string) => api.del(`/api/rules/${seg(id)}`),
  move: (id: string, position: number) => api.post<Rule>(`/api/rules/${seg(id)}/move`, { position }),
  test: (input: RuleTestInput) => api.post<RuleTestResult>('/api/rules/test', input),
};

/**
 * The ordered rule list: position, kind, what it matches, protocols, note, hit counters, an enable
 * switch, and move up / move down / edit / delete. Reordering keeps the keyboard focus on the moved
 * rule's button so a rule can be walked up the list with repeated Enter presses.
 */
import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Switch,
  Table,
  Text,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import type { Rule } from '../../api/rules.ts';
import { FIT, kindInfo, ruleSummary } from './kinds.ts';

export interface RulesTableProps {
  rules: Rule[];
  busyId: string | null;
  onMove: (rule: Rule, direction: -1 | 1) => void;
  onToggle: (rule: Rule, enabled: boolean) => void;
  onEdit: (rule: Rule) => void;
  onDelete: (rule: Rule) => void;
}

/**
 * The actions column stays in view at the right edge when the table is wider than the page (a
 * 1366-pixel laptop screen with the navigation open): Edit and Delete are never scrolled away.
 */
const STICKY_ACTIONS = { position: 'sticky', right: 0, background: 'var(--mantine-color-body)' } as const;

export function RulesTable({ rules, busyId, onMove, onToggle, onEdit, onDelete }: RulesTableProps) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="rules-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={50}>#</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Matches</Table.Th>
            <Table.Th>Protocols</Table.Th>
            <Table.Th>Note</Table.Th>
            <Table.Th>Hits</Table.Th>
            <Table.Th>Enabled</Table.Th>
            <Table.Th style={STICKY_ACTIONS}>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rules.map((rule, index) => (
            <RuleRow
              key={rule.id}
              rule={rule}
              first={index === 0}
              last={index === rules.length - 1}
              busy={busyId === rule.id}
              onMove={onMove}
              onToggle={onToggle}
              onEdit={onEdit}
              onDelete={onDelete}
            />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RuleRow({
  rule,
  first,
  last,
  busy,
  onMove,
  onToggle,
  onEdit,
  onDelete,
}: Omit<RulesTableProps, 'rules' | 'busyId'> & { rule: Rule; first: boolean; last: boolean; busy: boolean }) {
  const info = kindInfo(rule.kind);
  const label = `rule #${rule.position} (${info.label})`;
  return (
    <Table.Tr data-testid="rule-row" data-rule-id={rule.id} opacity={rule.enabled ? 1 : 0.6}>
      <Table.Td>
        <Text fw={600}>{rule.position}</Text>
      </Table.Td>
      <Table.Td>
        <Badge miw={FIT} color={info.color} variant="light">
          {info.label}
        </Badge>
      </Table.Td>
      <Table.Td miw={200}>
        <Text size="sm" ff={info.cidrs ? 'monospace' : undefined} data-testid="rule-summary">
          {ruleSummary(rule)}
        </Text>
      </Table.Td>
      <Table.Td>
        {rule.protocols.length === 0 ? (
          <Text size="sm" c="dimmed">
            all
          </Text>
        ) : (
          <Group gap={4}>
            {rule.protocols.map((protocol) => (
              <Badge miw={FIT} key={protocol} variant="outline" size="sm" color="gray">
                {protocol}
              </Badge>
            ))}
          </Group>
        )}
      </Table.Td>
      <Table.Td maw={240}>
        <Text size="sm" lineClamp={2} c={rule.note ? undefined : 'dimmed'}>
          {rule.note || '—'}
        </Text>
      </Table.Td>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Tooltip label="Connections or logins this rule let in">
            <Badge miw={FIT} color="teal" variant="light" data-testid="rule-allow-count">
              {rule.counters.allow} allowed
            </Badge>
          </Tooltip>
          <Tooltip label="Connections or logins this rule refused">
            <Badge miw={FIT} color="red" variant="light" data-testid="rule-deny-count">
              {rule.counters.deny} refused
            </Badge>
          </Tooltip>
          {rule.counters.errors > 0 && (
            <Tooltip label="Times the rule failed (it then refuses)">
              <Badge miw={FIT} color="orange" variant="filled">
                {rule.counters.errors} errors
              </Badge>
            </Tooltip>
          )}
        </Group>
      </Table.Td>
      <Table.Td>
        <Switch
          checked={rule.enabled}
          disabled={busy}
          aria-label={`Enable ${label}`}
          data-testid="rule-enabled"
          onChange={(event) => onToggle(rule, event.currentTarget.checked)}
        />
      </Table.Td>
      <Table.Td style={STICKY_ACTIONS}>
        <Group gap={4} wrap="nowrap" justify="flex-end">
          <ActionIcon
            variant="default"
            aria-label={`Move ${label} up`}
            disabled={first || busy}
            onClick={() => onMove(rule, -1)}
            data-testid={`rule-up-${rule.id}`}
          >
            ↑
          </ActionIcon>
          <ActionIcon
            variant="default"
            aria-label={`Move ${label} down`}
            disabled={last || busy}
            onClick={() => onMove(rule, 1)}
            data-testid={`rule-down-${rule.id}`}
          >
            ↓
          </ActionIcon>
          <Button size="xs" variant="default" onClick={() => onEdit(rule)} aria-label={`Edit ${label}`}>
            Edit
          </Button>
          <Button
            size="xs"
            color="red"
            variant="light"
            onClick={() => onDelete(rule)}
            aria-label={`Delete ${label}`}
            data-testid="rule-delete"
          >
            Delete
          </Button>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

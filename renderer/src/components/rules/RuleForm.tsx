/**
 * The add / edit form of a connection rule, in a modal. Addresses are checked as they are typed
 * (cidr.ts); only the fields the chosen kind takes are shown; the server's refusal lands on the
 * field it is about (serverErrors.ts).
 */
import {
  Alert,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  Text,
  Textarea,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import {
  RULE_KINDS,
  RULE_PROTOCOLS,
  type Rule,
  type RuleInput,
  type RuleKind,
  type RuleProtocol,
} from '../../api/rules.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { checkCidr, cidrListErrors, splitCidrs } from './cidr.ts';
import { formatWindow, KINDS } from './kinds.ts';
import { ruleFieldErrors, type RuleField } from './serverErrors.ts';

const MAX_LIMIT = 100_000;
const MAX_WINDOW = 30 * 24 * 60 * 60;

export interface RuleFormValues extends Required<RuleInput> {
  /** For a new rule: where it goes. */
  placement: 'top' | 'end';
}

interface Draft {
  kind: RuleKind;
  cidrsText: string;
  limit: number | string;
  windowSeconds: number | string;
  protocols: RuleProtocol[];
  note: string;
  enabled: boolean;
  placement: 'top' | 'end';
}

function draftOf(rule: Rule | null): Draft {
  return {
    kind: (rule?.kind as RuleKind | undefined) ?? 'deny',
    cidrsText: rule?.cidrs.join('\n') ?? '',
    limit: rule?.limit ?? '',
    windowSeconds: rule?.windowSeconds ?? '',
    protocols: (rule?.protocols as RuleProtocol[] | undefined) ?? [],
    note: rule?.note ?? '',
    enabled: rule?.enabled ?? true,
    placement: 'top',
  };
}

function countError(value: number | string, max: number, what: string): string | null {
  if (value === '') return `${what} is needed`;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) return `A whole number from 1 to ${max}`;
  return null;
}

/** The form's own checks; `submitted` adds "required" errors that would nag while typing. */
function localErrors(draft: Draft, submitted: boolean): Partial<Record<RuleField, string>> {
  const info = KINDS[draft.kind];
  const errors: Partial<Record<RuleField, string>> = {};
  if (info.cidrs) {
    const entries = splitCidrs(draft.cidrsText);
    const problems = cidrListErrors(entries);
    if (problems.length > 0) {
      // One line per bad entry (the first few), so each can be found and fixed.
      const shown = problems.slice(0, 3);
      if (problems.length > shown.length) shown.push(`…and ${problems.length - shown.length} more`);
      errors.cidrs = shown.join('\n');
    } else if (entries.length === 0 && submitted) {
      errors.cidrs = 'Enter at least one address or range';
    }
  }
  if (info.limitLabel && (submitted || draft.limit !== '')) {
    const error = countError(draft.limit, MAX_LIMIT, 'A limit');
    if (error) errors.limit = error;
  }
  if (info.window && (submitted || draft.windowSeconds !== '')) {
    const error = countError(draft.windowSeconds, MAX_WINDOW, 'A window');
    if (error) errors.windowSeconds = error;
  }
  if (draft.note.length > 1000) errors.note = 'At most 1000 characters';
  return errors;
}

function valuesOf(draft: Draft): RuleFormValues {
  const info = KINDS[draft.kind];
  return {
    kind: draft.kind,
    cidrs: info.cidrs ? splitCidrs(draft.cidrsText) : [],
    limit: info.limitLabel ? Number(draft.limit) : null,
    windowSeconds: info.window ? Number(draft.windowSeconds) : null,
    protocols: draft.protocols,
    enabled: draft.enabled,
    note: draft.note.trim(),
    placement: draft.placement,
  };
}

export interface RuleFormProps {
  opened: boolean;
  /** The rule being edited, null for a new one. */
  rule: Rule | null;
  onClose: () => void;
  onSubmit: (values: RuleFormValues) => Promise<unknown>;
}

export function RuleFormModal({ opened, rule, onClose, onSubmit }: RuleFormProps) {
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={rule ? `Edit rule #${rule.position}` : 'Add a connection rule'}
      size="lg"
    >
      {/* Mounted per opening, so the draft starts from the rule every time. */}
      {opened && <RuleForm rule={rule} onClose={onClose} onSubmit={onSubmit} />}
    </Modal>
  );
}

function RuleForm({ rule, onClose, onSubmit }: Omit<RuleFormProps, 'opened'>) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule));
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  const [serverFields, setServerFields] = useState<Partial<Record<RuleField, string>>>({});

  const info = KINDS[draft.kind];
  const errors = { ...serverFields, ...localErrors(draft, submitted) };
  const update = (patch: Partial<Draft>, fields: RuleField[]) => {
    setDraft((current) => ({ ...current, ...patch }));
    // A server complaint about a field goes once the field changes.
    setServerFields((current) => {
      const next = { ...current };
      for (const field of fields) delete next[field];
      return next;
    });
  };

  const entries = info.cidrs ? splitCidrs(draft.cidrsText) : [];
  const preview = entries
    .map(checkCidr)
    .flatMap((check) => (check.ok ? [check.canonical] : []))
    .slice(0, 6);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(localErrors(draft, true)).length > 0) return;
    setSaving(true);
    setServerError(null);
    try {
      await onSubmit(valuesOf(draft));
      onClose();
    } catch (error) {
      const fields = ruleFieldErrors(error);
      setServerFields(fields);
      setServerError(Object.keys(fields).length > 0 ? null : error);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form onSubmit={(event) => void submit(event)} noValidate data-testid="rule-form">
      <Stack gap="md">
        <Select
          label="Kind"
          data-testid="rule-kind"
          data={RULE_KINDS.map((kind) => ({ value: kind, label: KINDS[kind].label }))}
          value={draft.kind}
          onChange={(value) =>
            value && update({ kind: value as RuleKind }, ['kind', 'cidrs', 'limit', 'windowSeconds'])
          }
          allowDeselect={false}
          description={info.description}
          error={errors.kind}
        />
        {info.cidrs && (
          <Textarea
            label="Addresses and ranges"
            data-testid="rule-cidrs"
            description="One per line (or separated by commas): IPv4 or IPv6 addresses, CIDR ranges such as 10.0.0.0/8 or 2001:db8::/32."
            placeholder={'192.0.2.10\n10.0.0.0/8\n2001:db8::/32'}
            autosize
            minRows={3}
            maxRows={10}
            value={draft.cidrsText}
            onChange={(event) => update({ cidrsText: event.currentTarget.value }, ['cidrs'])}
            error={errors.cidrs && <span style={{ whiteSpace: 'pre-line' }}>{errors.cidrs}</span>}
            withAsterisk
            data-autofocus
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
        )}
        {info.cidrs && !errors.cidrs && preview.length > 0 && (
          <Text size="xs" c="dimmed" data-testid="rule-cidrs-preview">
            Stored as: {preview.join(', ')}
            {entries.length > preview.length ? ` and ${entries.length - preview.length} more` : ''}
          </Text>
        )}
        {info.limitLabel && (
          <NumberInput
            label={info.limitLabel}
            data-testid="rule-limit"
            min={1}
            max={MAX_LIMIT}
            allowDecimal={false}
            allowNegative={false}
            value={draft.limit}
            onChange={(value) => update({ limit: value }, ['limit'])}
            error={errors.limit}
            withAsterisk
          />
        )}
        {info.window && (
          <NumberInput
            label="Window (seconds)"
            data-testid="rule-window"
            description={
              draft.windowSeconds !== '' && Number(draft.windowSeconds) > 0
                ? `Failures are counted over ${formatWindow(Number(draft.windowSeconds))}.`
                : 'How far back failures are counted, e.g. 900 for 15 minutes.'
            }
            min={1}
            max={MAX_WINDOW}
            allowDecimal={false}
            allowNegative={false}
            value={draft.windowSeconds}
            onChange={(value) => update({ windowSeconds: value }, ['windowSeconds'])}
            error={errors.windowSeconds}
            withAsterisk
          />
        )}
        <Checkbox.Group
          label="Protocols"
          description="None ticked: the rule applies to every protocol."
          value={draft.protocols}
          onChange={(value) => update({ protocols: value as RuleProtocol[] }, ['protocols'])}
          error={errors.protocols}
        >
          <Group mt="xs">
            {RULE_PROTOCOLS.map((protocol) => (
              <Checkbox
                key={protocol}
                value={protocol}
                label={protocol.toUpperCase()}
                data-testid={`rule-protocol-${protocol}`}
              />
            ))}
          </Group>
        </Checkbox.Group>
        <Textarea
          label="Note"
          data-testid="rule-note"
          description="Why the rule exists, for whoever reads this list next."
          autosize
          minRows={1}
          maxRows={4}
          value={draft.note}
          onChange={(event) => update({ note: event.currentTarget.value }, ['note'])}
          error={errors.note}
        />
        <Group justify="space-between" align="flex-end">
          <Switch
            label="Enabled"
            checked={draft.enabled}
            onChange={(event) => update({ enabled: event.currentTarget.checked }, [])}
          />
          {!rule && (
            <Stack gap={4}>
              <Text size="sm" fw={500} id="rule-placement-label">
                Place it
              </Text>
              <SegmentedControl
                aria-labelledby="rule-placement-label"
                data={[
                  { value: 'top', label: 'First' },
                  { value: 'end', label: 'Last' },
                ]}
                value={draft.placement}
                onChange={(value) => update({ placement: value as 'top' | 'end' }, [])}
              />
            </Stack>
          )}
        </Group>
        {serverError !== null && <ErrorNotice error={serverError} title="The server refused the rule" />}
        {submitted && Object.keys(errors).length > 0 && (
          <Alert color="red" variant="light" role="status">
            Please fix the fields marked in red.
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={saving} data-testid="rule-save">
            {rule ? 'Save changes' : 'Add rule'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * Connection rules: the ordered list (first decisive rule wins) with live hit counters, add / edit
 * in a modal, enable switches, reordering, delete with a confirmation naming the rule, and "test an
 * address".
 */
import { Button, EmptyState, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useEvents } from '../api/events.ts';
import { rulesApi, type Rule } from '../api/rules.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { ConfirmModal } from '../components/rules/ConfirmModal.tsx';
import { ruleName } from '../components/rules/kinds.ts';
import { RuleFormModal, type RuleFormValues } from '../components/rules/RuleForm.tsx';
import { RulesTable } from '../components/rules/RulesTable.tsx';
import { RuleTester } from '../components/rules/RuleTester.tsx';

export const RULES_KEY = ['rules'] as const;

/** Refetches the rules (for their counters) at most every `ms` while verdicts stream in. */
function useLiveCounters(ms: number): void {
  const queryClient = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onVerdict = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void queryClient.invalidateQueries({ queryKey: RULES_KEY });
    }, ms);
  }, [queryClient, ms]);
  useEvents(onVerdict, ['rule.verdict']);
}

export function RulesPage() {
  const queryClient = useQueryClient();
  const rules = useQuery({ queryKey: RULES_KEY, queryFn: rulesApi.list, refetchInterval: 10_000 });
  useLiveCounters(400);

  const [editing, setEditing] = useState<Rule | null>(null);
  const [formOpen, setFormOpen] = useState(false);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const addButton = useRef<HTMLButtonElement>(null);
  const focusAfterMove = useRef<{ id: string; direction: 'up' | 'down' } | null>(null);

  // Keep the focus on the moved rule so it can be moved again with the keyboard: on the same
  // button, or on the other one when the rule reached an end (a disabled button loses focus).
  useEffect(() => {
    const pending = focusAfterMove.current;
    if (!pending) return;
    focusAfterMove.current = null;
    const other = pending.direction === 'up' ? 'down' : 'up';
    const button = (direction: string) =>
      document.querySelector<HTMLButtonElement>(
        `[data-testid="rule-${direction}-${pending.id}"]:not(:disabled)`,
      );
    (button(pending.direction) ?? button(other))?.focus();
  }, [rules.data]);

  const refresh = () => queryClient.invalidateQueries({ queryKey: RULES_KEY });

  const move = useMutation({
    mutationFn: ({ rule, position }: { rule: Rule; position: number }) => rulesApi.move(rule.id, position),
    onSuccess: async (moved, { rule }) => {
      setActionError(null);
      focusAfterMove.current = { id: rule.id, direction: moved.position < rule.position ? 'up' : 'down' };
      await refresh();
    },
    onError: setActionError,
  });
  const toggle = useMutation({
    mutationFn: ({ rule, enabled }: { rule: Rule; enabled: boolean }) =>
      rulesApi.update(rule.id, { enabled }),
    onSuccess: async () => {
      setActionError(null);
      await refresh();
    },
    onError: setActionError,
  });

  async function save(values: RuleFormValues) {
    const { placement, ...input } = values;
    if (editing) await rulesApi.update(editing.id, input);
    else await rulesApi.create({ ...input, ...(placement === 'top' ? { position: 1 } : {}) });
    await refresh();
  }

  function openForm(rule: Rule | null) {
    setEditing(rule);
    setFormOpen(true);
  }

  const busyId = move.isPending ? move.variables.rule.id : toggle.isPending ? toggle.variables.rule.id : null;
  const list = rules.data ?? [];

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Connection rules</Title>
          <Text c="dimmed" size="sm" maw={720}>
            Every new connection and login is checked against these rules from the top; the first rule that
            decides wins, and when none does the connection is allowed. Changes apply at once.
          </Text>
        </div>
        <Button ref={addButton} onClick={() => openForm(null)} data-testid="rule-add">
          Add rule
        </Button>
      </Group>

      {actionError !== null && (
        <Stack gap={4}>
          <ErrorNotice error={actionError} title="The change was not made" />
          <Group justify="flex-end">
            <Button size="xs" variant="subtle" onClick={() => setActionError(null)}>
              Dismiss
            </Button>
          </Group>
        </Stack>
      )}

      {rules.isPending ? (
        <Loader aria-label="Loading rules" />
      ) : rules.error ? (
        <ErrorNotice error={rules.error} title="The rules cannot be loaded" />
      ) : list.length === 0 ? (
        <EmptyState
          title="No connection rules"
          description="Every address may connect and log in. Add a rule to block addresses, limit connections or lock out password guessers."
          data-testid="rules-empty"
        >
          <EmptyState.Actions>
            <Button variant="light" onClick={() => openForm(null)}>
              Add the first rule
            </Button>
          </EmptyState.Actions>
        </EmptyState>
      ) : (
        <RulesTable
          rules={list}
          busyId={busyId}
          onMove={(rule, direction) => move.mutate({ rule, position: rule.position + direction })}
          onToggle={(rule, enabled) => toggle.mutate({ rule, enabled })}
          onEdit={(rule) => openForm(rule)}
          onDelete={setDeleting}
        />
      )}

      <RuleTester rules={list} />

      <RuleFormModal opened={formOpen} rule={editing} onClose={() => setFormOpen(false)} onSubmit={save} />
      <ConfirmModal
        opened={deleting !== null}
        title="Delete this rule?"
        confirmLabel="Delete rule"
        testid="rule-delete-modal"
        onClose={() => {
          setDeleting(null);
          addButton.current?.focus();
        }}
        onConfirm={async () => {
          if (!deleting) return;
          await rulesApi.remove(deleting.id);
          await refresh();
        }}
      >
        {deleting && (
          <>
            Rule <strong>{ruleName(deleting)}</strong> will be deleted; the rules below it move up. Its
            counters are lost.
          </>
        )}
      </ConfirmModal>
    </Stack>
  );
}

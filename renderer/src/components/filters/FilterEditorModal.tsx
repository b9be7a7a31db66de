/**
 * Creating or changing one filter, Gmail's way: the conditions on top (all must hold), then what to
 * do with matching mail. Sizes are typed in KB; empty fields are left out of the filter.
 */
import {
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { FilterJson } from '../../api/filters.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

type TextKey = 'from' | 'to' | 'subject' | 'hasWords' | 'doesNotHave' | 'listId';
type FlagKey = 'skipInbox' | 'markRead' | 'star' | 'delete' | 'neverSpam' | 'stop';

const TEXT_CONDITIONS: { key: TextKey; label: string; placeholder: string }[] = [
  { key: 'from', label: 'From', placeholder: 'boss@example.com' },
  { key: 'to', label: 'To (or Cc)', placeholder: 'me+shop@example.com' },
  { key: 'subject', label: 'Subject', placeholder: 'invoice' },
  { key: 'hasWords', label: 'Has the words', placeholder: 'unsubscribe' },
  { key: 'doesNotHave', label: "Doesn't have", placeholder: 'urgent' },
  { key: 'listId', label: 'Mailing list (List-Id)', placeholder: 'users.lists.example.org' },
];

const FLAG_ACTIONS: { key: FlagKey; label: string }[] = [
  { key: 'skipInbox', label: 'Skip the inbox (archive it)' },
  { key: 'markRead', label: 'Mark as read' },
  { key: 'star', label: 'Star it' },
  { key: 'neverSpam', label: 'Never send it to Spam' },
  { key: 'delete', label: 'Delete it' },
  { key: 'stop', label: 'Stop here (skip the filters below)' },
];

interface Draft {
  name: string;
  text: Record<TextKey, string>;
  largerKb: number | string;
  smallerKb: number | string;
  hasAttachment: boolean;
  flags: Record<FlagKey, boolean>;
  label: string;
  forward: string;
}

function draftOf(filter: FilterJson | null): Draft {
  const conditions = filter?.conditions ?? {};
  const actions = filter?.actions ?? {};
  const text = Object.fromEntries(TEXT_CONDITIONS.map(({ key }) => [key, conditions[key] ?? ''])) as Record<
    TextKey,
    string
  >;
  const flags = Object.fromEntries(FLAG_ACTIONS.map(({ key }) => [key, actions[key] ?? false])) as Record<
    FlagKey,
    boolean
  >;
  const kb = (bytes: number | undefined) => (bytes === undefined ? '' : Math.round(bytes / 1024));
  return {
    name: filter?.name ?? '',
    text,
    largerKb: kb(conditions.largerThan),
    smallerKb: kb(conditions.smallerThan),
    hasAttachment: conditions.hasAttachment ?? false,
    flags,
    label: actions.label ?? '',
    forward: actions.forward ?? '',
  };
}

/** The filter a draft describes; fields left empty are not part of it. */
function filterOf(draft: Draft): FilterJson {
  const conditions: FilterJson['conditions'] = {};
  for (const { key } of TEXT_CONDITIONS)
    if (draft.text[key].trim() !== '') conditions[key] = draft.text[key].trim();
  if (draft.largerKb !== '') conditions.largerThan = Number(draft.largerKb) * 1024;
  if (draft.smallerKb !== '') conditions.smallerThan = Number(draft.smallerKb) * 1024;
  if (draft.hasAttachment) conditions.hasAttachment = true;
  const actions: FilterJson['actions'] = {};
  for (const { key } of FLAG_ACTIONS) if (draft.flags[key]) actions[key] = true;
  if (draft.label.trim() !== '') actions.label = draft.label.trim();
  if (draft.forward.trim() !== '') actions.forward = draft.forward.trim();
  return { ...(draft.name.trim() === '' ? {} : { name: draft.name.trim() }), conditions, actions };
}

/** What is wrong with the draft before it is sent (the server checks again). */
function draftProblem(filter: FilterJson): string | null {
  if (Object.keys(filter.conditions).length === 0) return 'Give at least one condition.';
  if (Object.keys(filter.actions).length === 0) return 'Choose at least one thing to do.';
  return null;
}

export function FilterEditorModal(props: {
  opened: boolean;
  filter: FilterJson | null;
  saving: boolean;
  error: unknown;
  onClose: () => void;
  onSave: (filter: FilterJson) => void;
}) {
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={props.filter ? 'Change the filter' : 'Create a filter'}
      size="lg"
      data-testid="filter-editor"
    >
      {props.opened && <EditorForm {...props} />}
    </Modal>
  );
}

function EditorForm({
  filter,
  saving,
  error,
  onClose,
  onSave,
}: {
  filter: FilterJson | null;
  saving: boolean;
  error: unknown;
  onClose: () => void;
  onSave: (filter: FilterJson) => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(filter));
  const [tried, setTried] = useState(false);
  const problem = draftProblem(filterOf(draft));
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (problem === null) onSave(filterOf(draft));
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput
          label="Name (for this list only)"
          value={draft.name}
          onChange={(event) => set({ name: event.currentTarget.value })}
          data-testid="filter-name"
        />
        <Text fw={600}>When a message matches all of these</Text>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {TEXT_CONDITIONS.map(({ key, label, placeholder }) => (
            <TextInput
              key={key}
              label={label}
              placeholder={placeholder}
              value={draft.text[key]}
              onChange={(event) => set({ text: { ...draft.text, [key]: event.currentTarget.value } })}
              data-testid={`filter-${key}`}
            />
          ))}
          <NumberInput
            label="Larger than (KB)"
            min={1}
            value={draft.largerKb}
            onChange={(value) => set({ largerKb: value })}
            data-testid="filter-larger"
          />
          <NumberInput
            label="Smaller than (KB)"
            min={1}
            value={draft.smallerKb}
            onChange={(value) => set({ smallerKb: value })}
            data-testid="filter-smaller"
          />
        </SimpleGrid>
        <Checkbox
          label="Has an attachment"
          checked={draft.hasAttachment}
          onChange={(event) => set({ hasAttachment: event.currentTarget.checked })}
          data-testid="filter-hasAttachment"
        />
        <Text fw={600}>Do this</Text>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="Apply the label (folder)"
            placeholder="Receipts"
            value={draft.label}
            onChange={(event) => set({ label: event.currentTarget.value })}
            data-testid="filter-label"
          />
          <TextInput
            label="Forward it to"
            placeholder="me@elsewhere.example"
            value={draft.forward}
            onChange={(event) => set({ forward: event.currentTarget.value })}
            data-testid="filter-forward"
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          {FLAG_ACTIONS.map(({ key, label }) => (
            <Checkbox
              key={key}
              label={label}
              checked={draft.flags[key]}
              onChange={(event) => set({ flags: { ...draft.flags, [key]: event.currentTarget.checked } })}
              data-testid={`filter-${key}`}
            />
          ))}
        </SimpleGrid>
        {tried && problem !== null && (
          <Text c="red" size="sm" role="alert" data-testid="filter-problem">
            {problem}
          </Text>
        )}
        <ErrorNotice error={error} title="The filter was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={saving} data-testid="filter-save">
            Save the filter
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

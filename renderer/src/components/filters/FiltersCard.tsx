/**
 * The ordered list of filters: each in words, moved up or down, changed in the editor, removed;
 * and "Test against recent messages", which runs the list over the newest INBOX messages on the
 * server without doing anything and shows what each filter would catch.
 */
import { Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { filtersApi, type FilterJson, type FilterSettingsJson } from '../../api/filters.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { FilterEditorModal } from './FilterEditorModal.tsx';

/** A filter in a line: "from boss@ · has attachment → label Work, star". */
export function describeFilter(filter: FilterJson): string {
  const c = filter.conditions;
  const when = [
    c.from && `from ${c.from}`,
    c.to && `to ${c.to}`,
    c.subject && `subject "${c.subject}"`,
    c.hasWords && `has "${c.hasWords}"`,
    c.doesNotHave && `doesn't have "${c.doesNotHave}"`,
    c.largerThan && `larger than ${Math.round(c.largerThan / 1024)} KB`,
    c.smallerThan && `smaller than ${Math.round(c.smallerThan / 1024)} KB`,
    c.hasAttachment === true && 'has attachment',
    c.hasAttachment === false && 'no attachment',
    c.listId && `list ${c.listId}`,
  ].filter(Boolean);
  const a = filter.actions;
  const then = [
    a.delete && 'delete',
    a.label && `label ${a.label}`,
    a.skipInbox && 'skip the inbox',
    a.markRead && 'mark as read',
    a.star && 'star',
    a.forward && `forward to ${a.forward}`,
    a.neverSpam && 'never spam',
    a.stop && 'stop',
  ].filter(Boolean);
  return `${when.join(' · ')} → ${then.join(', ')}`;
}

export function FiltersCard({
  userId,
  settings,
  saving,
  saveError,
  onSave,
}: {
  userId: string;
  settings: FilterSettingsJson;
  saving: boolean;
  saveError: unknown;
  onSave: (settings: FilterSettingsJson) => Promise<unknown>;
}) {
  // null: closed; -1: a new filter; else the index of the one being changed.
  const [editing, setEditing] = useState<number | null>(null);
  const filters = settings.filters;
  const saveFilters = (next: FilterJson[]) => onSave({ ...settings, filters: next });
  const test = useMutation({ mutationFn: () => filtersApi.test(userId, { settings }) });

  function move(index: number, by: -1 | 1) {
    const next = [...filters];
    const [moved] = next.splice(index, 1);
    next.splice(index + by, 0, moved!);
    void saveFilters(next);
  }

  async function saveEdited(filter: FilterJson) {
    const next =
      editing === -1 ? [...filters, filter] : filters.map((old, index) => (index === editing ? filter : old));
    await saveFilters(next);
    setEditing(null);
  }

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4">
            Filters
          </Title>
          <Group>
            <Button
              variant="default"
              onClick={() => test.mutate()}
              loading={test.isPending}
              data-testid="filters-test"
            >
              Test against recent messages
            </Button>
            <Button onClick={() => setEditing(-1)} data-testid="filter-create">
              Create a filter
            </Button>
          </Group>
        </Group>
        {filters.length === 0 ? (
          <Text size="sm" c="dimmed">
            No filters. A filter sorts arriving mail: by sender, recipient, subject, words, size, attachment
            or mailing list, into a label (folder), archived, starred, read, forwarded or deleted. They run in
            order.
          </Text>
        ) : (
          <Table data-testid="filters-table">
            <Table.Tbody>
              {filters.map((filter, index) => (
                <Table.Tr key={index} data-testid="filter-row">
                  <Table.Td w={40}>
                    <Text c="dimmed">{index + 1}</Text>
                  </Table.Td>
                  <Table.Td>
                    {filter.name && <Text fw={600}>{filter.name}</Text>}
                    <Text size="sm" data-testid="filter-summary">
                      {describeFilter(filter)}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <Button
                        size="xs"
                        variant="subtle"
                        disabled={index === 0 || saving}
                        onClick={() => move(index, -1)}
                        aria-label={`Move filter ${index + 1} up`}
                      >
                        Up
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        disabled={index === filters.length - 1 || saving}
                        onClick={() => move(index, 1)}
                        aria-label={`Move filter ${index + 1} down`}
                      >
                        Down
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        onClick={() => setEditing(index)}
                        aria-label={`Change filter ${index + 1}`}
                      >
                        Change
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        disabled={saving}
                        onClick={() => void saveFilters(filters.filter((_, other) => other !== index))}
                        aria-label={`Remove filter ${index + 1}`}
                      >
                        Remove
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <ErrorNotice error={test.error} title="The test did not run" />
        {test.data && (
          <Stack gap="xs" data-testid="filters-test-results">
            <Text fw={600}>
              {test.data.results.length === 1
                ? 'The newest message in INBOX'
                : `The newest ${test.data.results.length} messages in INBOX`}{' '}
              (nothing was changed)
            </Text>
            {test.data.results.length === 0 && <Text size="sm">INBOX is empty.</Text>}
            <Table>
              <Table.Tbody>
                {test.data.results.map((result) => (
                  <Table.Tr
                    key={result.uid}
                    data-testid="filters-test-row"
                    data-matched={result.matched.map((index) => index + 1).join(',')}
                  >
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {result.subject || '(no subject)'}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {result.from}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {result.matched.length === 0 ? (
                        <Text size="sm" c="dimmed">
                          no filter
                        </Text>
                      ) : (
                        result.matched.map((index) => (
                          <Badge key={index} variant="light" mr={4}>
                            filter {index + 1}
                          </Badge>
                        ))
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{result.error ?? result.actions.join('; ')}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Stack>
        )}
      </Stack>
      <FilterEditorModal
        opened={editing !== null}
        filter={editing === null || editing === -1 ? null : (filters[editing] ?? null)}
        saving={saving}
        error={saveError}
        onClose={() => setEditing(null)}
        onSave={(filter) => void saveEdited(filter).catch(() => {})}
      />
    </Card>
  );
}

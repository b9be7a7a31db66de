/**
 * The raw Sieve editor, for those who write their own: the active script (or the generated one),
 * checked by the server with the error at line and column, then saved and made active. Saving a
 * script of one's own here turns the Filters page's settings off (they stay stored).
 */
import { Alert, Button, Card, Group, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { filterKeys, filtersApi, type SieveCheck } from '../../api/filters.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

const MANAGED = 'mallard-filters';

export function RawSieveCard({ userId }: { userId: string }) {
  const scripts = useQuery({
    queryKey: filterKeys.scripts(userId),
    queryFn: () => filtersApi.scripts(userId),
  });
  if (!scripts.data) return <ErrorNotice error={scripts.error} />;
  const active = scripts.data.scripts.find((script) => script.active) ?? null;
  // Mounted anew when fresh scripts arrive (they may have changed elsewhere); a save here does not
  // refetch them, so the editor stays as the user left it.
  return (
    <RawEditor
      key={scripts.dataUpdatedAt}
      userId={userId}
      initialName={active && active.name !== MANAGED ? active.name : 'my-filters'}
      initialContent={active?.content ?? ''}
    />
  );
}

function RawEditor({
  userId,
  initialName,
  initialContent,
}: {
  userId: string;
  initialName: string;
  initialContent: string;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(initialName);
  const [content, setContent] = useState(initialContent);
  const [checked, setChecked] = useState<SieveCheck | null>(null);
  const check = useMutation({ mutationFn: () => filtersApi.check(content), onSuccess: setChecked });
  const save = useMutation({
    mutationFn: async () => {
      const result = await filtersApi.check(content);
      setChecked(result);
      if (!result.ok) return false;
      await filtersApi.putScript(userId, name.trim(), content);
      await filtersApi.activateScript(userId, name.trim());
      return true;
    },
    onSuccess: (saved) => {
      if (!saved) return;
      // The page's state (a hand-written script is now active); the scripts only once the editor goes.
      void queryClient.invalidateQueries({ queryKey: filterKeys.filters(userId) });
      void queryClient.invalidateQueries({ queryKey: filterKeys.scripts(userId), refetchType: 'none' });
    },
  });

  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Sieve script
        </Title>
        <Text size="sm" c="dimmed">
          The rules behind the Filters page are a Sieve script (RFC 5228). Write your own here, or with a
          Sieve client over ManageSieve; saving one here makes it the active script in place of the Filters
          page&apos;s.
        </Text>
        <TextInput
          label="Script name"
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          data-testid="raw-name"
        />
        <Textarea
          label="Script"
          autosize
          minRows={10}
          styles={{ input: { fontFamily: 'monospace' } }}
          value={content}
          onChange={(event) => {
            setContent(event.currentTarget.value);
            setChecked(null);
          }}
          data-testid="raw-script"
        />
        {checked?.error && (
          <Alert
            color="red"
            variant="light"
            title="The script does not compile"
            role="alert"
            data-testid="raw-error"
          >
            Line {checked.error.line}, column {checked.error.column}:{' '}
            {checked.error.message.replace(/^line \d+, column \d+: /, '')}
          </Alert>
        )}
        {checked?.ok && (
          <Text size="sm" c="teal" data-testid="raw-ok">
            {save.data ? `Saved and active as "${name.trim()}".` : 'The script compiles.'}
          </Text>
        )}
        <ErrorNotice error={check.error ?? save.error} />
        <Group>
          <Button
            variant="default"
            onClick={() => check.mutate()}
            loading={check.isPending}
            data-testid="raw-check"
          >
            Check
          </Button>
          <Button
            onClick={() => save.mutate()}
            loading={save.isPending}
            disabled={name.trim() === ''}
            data-testid="raw-save"
          >
            Save and activate
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

/**
 * "Move my mail to MongoDB": copies every account, mailbox and message (UIDs and flags kept, so
 * phones do not download everything again), verifies the copy, then switches the server to it.
 * The server is stopped during the copy; a failure leaves everything on the embedded store.
 */
import {
  Alert,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Progress,
  ScrollArea,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { migrationApi } from '../../api/migration.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function MoveToMongo({ uri, uriValid }: { uri: string; uriValid: boolean }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const status = useQuery({
    queryKey: ['migration'],
    queryFn: migrationApi.status,
    refetchInterval: (query) => (query.state.data?.state === 'running' ? 500 : false),
  });
  const start = useMutation({
    mutationFn: () => migrationApi.start(uri.trim()),
    onSuccess: (next) => {
      queryClient.setQueryData(['migration'], next);
      setConfirming(false);
    },
  });
  const job = status.data;
  const running = job?.state === 'running';
  const percent = job && job.messagesTotal > 0 ? Math.round((job.messagesDone / job.messagesTotal) * 100) : 0;

  const succeeded = job?.state === 'succeeded';
  useEffect(() => {
    // The configuration now names MongoDB: show it.
    if (succeeded) void queryClient.invalidateQueries({ queryKey: ['settings'] });
  }, [succeeded, queryClient]);

  return (
    <Card withBorder padding="md" data-testid="move-to-mongo">
      <Title order={4} size="h5" mb={4}>
        Move my mail to MongoDB
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Copies every account, mailbox and message to the MongoDB above, keeping UIDs and flags so phones and
        desktop clients do not download everything again, checks the copy, then switches the server to it. The
        mail server is stopped while it copies.
      </Text>
      {!running && !succeeded && (
        <Button onClick={() => setConfirming(true)} disabled={!uriValid} data-testid="move-to-mongo-start">
          Move my mail…
        </Button>
      )}
      {job && job.state !== 'idle' && (
        <Stack gap="xs" mt="sm" aria-live="polite">
          {running && (
            <>
              <Text size="sm">
                Copying to <Code>{job.target}</Code>: {job.messagesDone} of {job.messagesTotal || '…'}{' '}
                messages
              </Text>
              <Progress value={percent} animated aria-label="Migration progress" />
            </>
          )}
          {job.state === 'succeeded' && (
            <Alert color="teal" title="Your mail is on MongoDB now" data-testid="move-to-mongo-done">
              Every message was copied and checked; the server now runs on <Code>{job.target}</Code>.
            </Alert>
          )}
          {job.state === 'failed' && (
            <Alert color="red" title="The mail was not moved" role="alert" data-testid="move-to-mongo-failed">
              {job.error}
            </Alert>
          )}
          <ScrollArea h={120} type="auto">
            <Text component="pre" size="xs" ff="monospace" m={0}>
              {job.lines.slice(-30).join('\n')}
            </Text>
          </ScrollArea>
        </Stack>
      )}
      {status.error && <ErrorNotice error={status.error} />}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Move all mail to MongoDB?">
        <Stack>
          <Text size="sm">
            The mail server stops while the mail is copied to <Code>{uri.trim()}</Code>, then starts on
            MongoDB. Phones and desktop clients reconnect by themselves. If anything fails, nothing changes.
          </Text>
          {start.error && <ErrorNotice error={start.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button
              onClick={() => start.mutate()}
              loading={start.isPending}
              data-testid="move-to-mongo-confirm"
            >
              Move my mail
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}

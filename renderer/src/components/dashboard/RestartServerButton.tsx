/** "Restart server" with a confirmation that says what happens to the open connections, then progress. */
import { Button, Group, Modal, Progress, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi } from '../../api/panel.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { useServerRestart } from './useServerRestart.ts';

const PHASE_TEXT: Record<string, string> = {
  stopping: 'Stopping the server; open sessions are told goodbye…',
  stopped: 'Starting the server…',
  starting: 'Starting the server…',
  backoff: 'Waiting to start the server again…',
  running: 'Waiting for the new server process…',
};

export function RestartProgress({ phase, state }: { phase: string; state: string | null }) {
  if (phase !== 'requesting' && phase !== 'waiting') return null;
  return (
    <Stack gap={4} data-testid="restart-progress">
      <Progress value={100} animated striped aria-label="Restarting the server" />
      <Text size="sm" c="dimmed">
        {phase === 'requesting'
          ? 'Asking the server to restart…'
          : (PHASE_TEXT[state ?? ''] ?? 'Restarting…')}
      </Text>
    </Stack>
  );
}

export function RestartServerButton({ connections }: { connections: number | null }) {
  const [confirming, setConfirming] = useState(false);
  const restart = useServerRestart();
  const busy = restart.phase === 'requesting' || restart.phase === 'waiting';
  const open = connections ?? 0;

  return (
    <>
      <Button
        variant="default"
        onClick={() => {
          restart.reset();
          setConfirming(true);
        }}
        loading={busy}
        data-testid="restart-server"
      >
        Restart server
      </Button>
      <Modal
        opened={confirming}
        onClose={() => !busy && setConfirming(false)}
        title="Restart the mail server?"
        centered
      >
        <Stack>
          <Text size="sm">
            {open > 0
              ? `The ${open} open connection${open === 1 ? '' : 's'} will be closed. Mail clients reconnect by themselves.`
              : 'No client is connected right now.'}{' '}
            Settings saved since the last start take effect.
          </Text>
          <RestartProgress phase={restart.phase} state={restart.state} />
          {restart.phase === 'done' && (
            <Text size="sm" c="teal" data-testid="restart-done">
              The server is running again.
            </Text>
          )}
          {restart.phase === 'failed' && <ErrorNotice error={restart.error} title="The restart failed" />}
          <Group justify="flex-end">
            {restart.phase === 'done' || restart.phase === 'failed' ? (
              <Button onClick={() => setConfirming(false)} data-autofocus>
                Close
              </Button>
            ) : (
              <>
                <Button variant="default" onClick={() => setConfirming(false)} disabled={busy}>
                  Cancel
                </Button>
                <Button
                  color="orange"
                  onClick={() => void restart.restart()}
                  loading={busy}
                  data-testid="confirm-restart"
                  data-autofocus
                >
                  Restart
                </Button>
              </>
            )}
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** A stopped server (stopped from the tray or the CLI) is started again without questions. */
export function StartServerButton() {
  const queryClient = useQueryClient();
  const start = useMutation({
    mutationFn: () => panelApi.serverAction('start'),
    onSuccess: (status) => queryClient.setQueryData(['panel-server'], status),
  });
  return (
    <Stack gap={4} align="flex-end">
      <Button
        color="teal"
        onClick={() => start.mutate()}
        loading={start.isPending}
        data-testid="start-server"
      >
        Start server
      </Button>
      {start.error && <ErrorNotice error={start.error} title="The server did not start" />}
    </Stack>
  );
}

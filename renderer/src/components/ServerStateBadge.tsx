/** The supervised mail server's state, polled from the panel host, shown in the header. */
import { Badge, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { panelApi, type ServerState } from '../api/panel.ts';

const COLORS: Record<ServerState, string> = {
  running: 'teal',
  starting: 'yellow',
  stopping: 'yellow',
  backoff: 'orange',
  stopped: 'gray',
};

const LABELS: Record<ServerState, string> = {
  running: 'Server running',
  starting: 'Server starting',
  stopping: 'Server stopping',
  backoff: 'Server restarting',
  stopped: 'Server stopped',
};

export function useServerStatus() {
  return useQuery({ queryKey: ['panel-server'], queryFn: panelApi.server, refetchInterval: 3_000 });
}

export function ServerStateBadge() {
  const status = useServerStatus();
  if (!status.data) return null;
  const { state, lastExit } = status.data;
  const detail = lastExit
    ? `last exit ${lastExit.code ?? lastExit.signal} at ${new Date(lastExit.at).toLocaleTimeString()}`
    : '';
  return (
    <Tooltip label={detail || LABELS[state]} disabled={!detail}>
      <Badge color={COLORS[state]} variant="light" data-testid="server-state" data-state={state}>
        {LABELS[state]}
      </Badge>
    </Tooltip>
  );
}

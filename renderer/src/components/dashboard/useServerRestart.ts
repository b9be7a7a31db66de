/**
 * Restarting the supervised server and following it until it runs again: shared by the dashboard's
 * quick action and the settings page (settings take effect after a restart). The restart is done
 * when the supervisor reports 'running' with a process started after the request.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { panelApi, type SupervisorStatus } from '../../api/panel.ts';
import { resetLiveMetrics } from './liveMetrics.ts';

export type RestartPhase = 'idle' | 'requesting' | 'waiting' | 'done' | 'failed';

const GIVE_UP_MS = 60_000;

function restarted(status: SupervisorStatus | undefined, requestedAt: number): boolean {
  if (!status || status.state !== 'running' || !status.startedAt) return false;
  // A second of slack: the supervisor's clock and this page's clock are the same machine's.
  return new Date(status.startedAt).getTime() >= requestedAt - 1000;
}

export function useServerRestart() {
  const queryClient = useQueryClient();
  const [phase, setPhase] = useState<RestartPhase>('idle');
  const [error, setError] = useState<unknown>(null);
  const requestedAt = useRef(0);
  const waiting = phase === 'requesting' || phase === 'waiting';
  // Poll the supervisor quickly while a restart is under way (the header badge polls slowly).
  const server = useQuery({
    queryKey: ['panel-server'],
    queryFn: panelApi.server,
    refetchInterval: waiting ? 500 : false,
    enabled: waiting,
  });

  const restart = useCallback(async () => {
    requestedAt.current = Date.now();
    setError(null);
    setPhase('requesting');
    try {
      const status = await panelApi.serverAction('restart');
      queryClient.setQueryData(['panel-server'], status);
      setPhase('waiting');
    } catch (caught) {
      setError(caught);
      setPhase('failed');
    }
  }, [queryClient]);

  useEffect(() => {
    if (phase !== 'waiting') return;
    if (restarted(server.data, requestedAt.current)) {
      setPhase('done');
      // The figures and lists on every page belong to the old process.
      resetLiveMetrics();
      void queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== 'panel-session' });
      return;
    }
    const left = GIVE_UP_MS - (Date.now() - requestedAt.current);
    const timer = setTimeout(
      () => {
        setError(new Error('The server did not come back within a minute. The Logs page shows why.'));
        setPhase('failed');
      },
      Math.max(0, left),
    );
    return () => clearTimeout(timer);
  }, [phase, server.data, queryClient]);

  return {
    phase,
    error,
    state: server.data?.state ?? null,
    restart,
    reset: () => {
      setPhase('idle');
      setError(null);
    },
  };
}

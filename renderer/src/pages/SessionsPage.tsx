/**
 * Live sessions: a table that follows the event stream (no reload needed), filters by protocol
 * and by user or address, a detail drawer, kick with a confirmation, and "block this address";
 * below it, the verdicts on incoming mail (filed in INBOX or Junk, refused, and why).
 */
import {
  Badge,
  EmptyState,
  Group,
  Loader,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useInterval } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useStreamState } from '../api/events.ts';
import { sessionsApi, type Session } from '../api/sessions.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { ConfirmModal } from '../components/rules/ConfirmModal.tsx';
import { BlockAddressModal } from '../components/sessions/BlockAddressModal.tsx';
import { MailVerdicts } from '../components/sessions/MailVerdicts.tsx';
import { sessionName } from '../components/sessions/describe.ts';
import { SessionDrawer } from '../components/sessions/SessionDrawer.tsx';
import { SessionsTable } from '../components/sessions/SessionsTable.tsx';
import { SESSIONS_KEY, useLiveSessions } from '../components/sessions/useLiveSessions.ts';

const PROTOCOLS = ['all', 'imap', 'pop3', 'lmtp', 'smtp', 'submission', 'managesieve'] as const;

/** The current time, once a second, so durations tick. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  const interval = useInterval(() => setNow(Date.now()), 1000);
  useEffect(() => {
    interval.start();
    return interval.stop;
  }, [interval]);
  return now;
}

function matches(session: Session, protocol: string, text: string): boolean {
  if (protocol !== 'all' && session.protocol !== protocol) return false;
  if (text === '') return true;
  const needle = text.toLowerCase();
  return (
    (session.user ?? '').toLowerCase().includes(needle) ||
    session.remoteAddress.toLowerCase().includes(needle) ||
    (session.clientName ?? '').toLowerCase().includes(needle)
  );
}

export function SessionsPage() {
  const queryClient = useQueryClient();
  const { sessions, query } = useLiveSessions();
  const stream = useStreamState();
  const now = useNow();
  const [protocol, setProtocol] = useState<string>('all');
  const [text, setText] = useState('');
  const [detailId, setDetailId] = useState<string | null>(null);
  const [kicking, setKicking] = useState<Session | null>(null);
  const [blocking, setBlocking] = useState<Session | null>(null);

  const shown = useMemo(
    () =>
      sessions
        .filter((session) => matches(session, protocol, text.trim()))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
    [sessions, protocol, text],
  );
  const counts = useMemo(() => {
    const result: Record<string, number> = { all: sessions.length };
    for (const session of sessions) result[session.protocol] = (result[session.protocol] ?? 0) + 1;
    return result;
  }, [sessions]);

  const sameAddress = blocking
    ? sessions.filter((session) => session.remoteAddress === blocking.remoteAddress)
    : [];

  async function kick(list: Session[]) {
    for (const session of list) {
      await sessionsApi.kick(session.id);
      // Its details would only say it has ended.
      if (session.id === detailId) setDetailId(null);
    }
    void queryClient.invalidateQueries({ queryKey: SESSIONS_KEY });
  }

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Sessions</Title>
          <Text c="dimmed" size="sm">
            Everyone connected right now. The table follows the server live.
          </Text>
        </div>
        <Badge color={stream === 'open' ? 'teal' : 'orange'} variant="dot" data-testid="sessions-live">
          {stream === 'open' ? 'live' : 'reconnecting…'}
        </Badge>
      </Group>

      <Group align="flex-end">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="session-protocol-label">
            Protocol
          </Text>
          <SegmentedControl
            aria-labelledby="session-protocol-label"
            value={protocol}
            onChange={setProtocol}
            data={PROTOCOLS.map((value) => ({
              value,
              label: `${value === 'all' ? 'All' : value.toUpperCase()} (${counts[value] ?? 0})`,
            }))}
            data-testid="sessions-protocol"
          />
        </Stack>
        <TextInput
          label="User or address"
          placeholder="alice, 192.0.2."
          value={text}
          onChange={(event) => setText(event.currentTarget.value)}
          data-testid="sessions-filter"
          w={260}
        />
      </Group>

      {query.isPending && sessions.length === 0 ? (
        <Loader aria-label="Loading sessions" />
      ) : query.error && sessions.length === 0 ? (
        <ErrorNotice error={query.error} title="The sessions cannot be loaded" />
      ) : shown.length === 0 ? (
        <EmptyState
          data-testid="sessions-empty"
          title={sessions.length === 0 ? 'Nobody is connected' : 'No session matches the filter'}
          description={
            sessions.length === 0
              ? 'Sessions appear here as soon as a mail client connects.'
              : `${sessions.length} session${sessions.length === 1 ? '' : 's'} hidden by the filter.`
          }
        />
      ) : (
        <SessionsTable
          sessions={shown}
          now={now}
          onDetails={(session) => setDetailId(session.id)}
          onKick={setKicking}
          onBlock={setBlocking}
        />
      )}

      <MailVerdicts />

      <SessionDrawer
        sessionId={detailId}
        now={now}
        onClose={() => setDetailId(null)}
        onKick={setKicking}
        onBlock={setBlocking}
      />
      <ConfirmModal
        opened={kicking !== null}
        title="Kick this session?"
        confirmLabel="Kick"
        testid="session-kick-modal"
        onClose={() => setKicking(null)}
        onConfirm={async () => {
          if (kicking) await kick([kicking]);
        }}
      >
        {kicking && (
          <>
            The <strong>{sessionName(kicking)}</strong> will be closed with the protocol&apos;s goodbye. The
            client may reconnect unless the address is blocked.
          </>
        )}
      </ConfirmModal>
      <BlockAddressModal
        session={blocking}
        sameAddress={sameAddress}
        onClose={() => setBlocking(null)}
        onBlocked={() => void queryClient.invalidateQueries({ queryKey: ['rules'] })}
        onKick={kick}
      />
    </Stack>
  );
}

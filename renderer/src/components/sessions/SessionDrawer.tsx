/** The details of one session (GET /api/sessions/{id}), refreshed while the drawer is open. */
import { Badge, Button, Code, Drawer, Group, Loader, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../../api/client.ts';
import { sessionsApi, type Session } from '../../api/sessions.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatBytes, formatDate, formatDuration } from '../format.ts';
import { ageSeconds, sessionName } from './describe.ts';

export interface SessionDrawerProps {
  sessionId: string | null;
  now: number;
  onClose: () => void;
  onKick: (session: Session) => void;
  onBlock: (session: Session) => void;
}

export function SessionDrawer({ sessionId, now, onClose, onKick, onBlock }: SessionDrawerProps) {
  const detail = useQuery({
    queryKey: ['session', sessionId],
    queryFn: () => sessionsApi.get(sessionId!),
    enabled: sessionId !== null,
    refetchInterval: (query) => (query.state.error ? false : 2_000),
  });
  const gone = detail.error instanceof ApiError && detail.error.code === 'not_found';
  const session = detail.data;

  return (
    <Drawer
      opened={sessionId !== null}
      onClose={onClose}
      position="right"
      size="md"
      title={session ? sessionName(session) : 'Session'}
      data-testid="session-drawer"
    >
      {detail.isPending ? (
        <Loader aria-label="Loading the session" />
      ) : gone ? (
        <Text c="dimmed">This session has ended.</Text>
      ) : detail.error ? (
        <ErrorNotice error={detail.error} />
      ) : session ? (
        <Stack>
          <Table variant="vertical" withTableBorder layout="fixed">
            <Table.Tbody>
              <Row label="Protocol">{session.protocol.toUpperCase()}</Row>
              <Row label="User">{session.user ?? <Text c="dimmed">not logged in</Text>}</Row>
              <Row label="Client address">
                <Code>
                  {session.remoteAddress}:{session.remotePort}
                </Code>
              </Row>
              <Row label="Server port">{session.localPort}</Row>
              <Row label="TLS">
                {session.tls ? (
                  <Text size="sm">
                    {session.tls.version} · {session.tls.cipher}
                  </Text>
                ) : (
                  <Badge color="gray" variant="light">
                    none
                  </Badge>
                )}
              </Row>
              <Row label="Client">{session.clientName ?? '—'}</Row>
              <Row label="Mailbox">{session.mailbox ?? '—'}</Row>
              <Row label="IDLE">{session.idle ? 'yes, waiting for new mail' : 'no'}</Row>
              <Row label="Running now">{session.command ?? '—'}</Row>
              <Row label="Commands">{session.commands}</Row>
              <Row label="Received">{formatBytes(session.bytesIn)}</Row>
              <Row label="Sent">{formatBytes(session.bytesOut)}</Row>
              <Row label="Started">{formatDate(session.startedAt)}</Row>
              <Row label="Duration">{formatDuration(ageSeconds(session, now))}</Row>
              <Row label="Last activity">{formatDate(session.lastActivityAt)}</Row>
              <Row label="Session id">
                <Code>{session.id}</Code>
              </Row>
            </Table.Tbody>
          </Table>
          <Group>
            <Button color="red" variant="light" onClick={() => onKick(session)}>
              Kick
            </Button>
            <Button color="red" variant="subtle" onClick={() => onBlock(session)}>
              Block this address
            </Button>
          </Group>
        </Stack>
      ) : null}
    </Drawer>
  );
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={140}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

/** The live session table; the user name opens the details, Kick and Block act on the row. */
import { Anchor, Badge, Button, Group, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import type { Session } from '../../api/sessions.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { FIT } from '../rules/kinds.ts';
import { ageSeconds } from './describe.ts';

export interface SessionsTableProps {
  sessions: Session[];
  now: number;
  onDetails: (session: Session) => void;
  onKick: (session: Session) => void;
  onBlock: (session: Session) => void;
}

const PROTOCOL_COLORS: Record<string, string> = {
  imap: 'blue',
  pop3: 'violet',
  lmtp: 'gray',
  smtp: 'cyan',
  submission: 'teal',
};

export function SessionsTable({ sessions, now, onDetails, onKick, onBlock }: SessionsTableProps) {
  return (
    <Table.ScrollContainer minWidth={960}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="sessions-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Protocol</Table.Th>
            <Table.Th>User</Table.Th>
            <Table.Th>Address</Table.Th>
            <Table.Th>TLS</Table.Th>
            <Table.Th>Client</Table.Th>
            <Table.Th>Mailbox · IDLE</Table.Th>
            <Table.Th ta="right">In / out</Table.Th>
            <Table.Th ta="right">Duration</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sessions.map((session) => (
            <Table.Tr key={session.id} data-testid="session-row" data-session-id={session.id}>
              <Table.Td>
                <Badge miw={FIT} color={PROTOCOL_COLORS[session.protocol] ?? 'gray'} variant="light">
                  {session.protocol}
                </Badge>
              </Table.Td>
              <Table.Td data-testid="session-user">
                {/* The user opens the details: one button fewer per row, and still a real button. */}
                <Anchor
                  component="button"
                  type="button"
                  size="sm"
                  onClick={() => onDetails(session)}
                  data-testid="session-details"
                  title="Show the session's details"
                  c={session.user ? undefined : 'dimmed'}
                >
                  {session.user ?? 'not logged in'}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace" data-testid="session-address">
                  {session.remoteAddress}
                </Text>
              </Table.Td>
              <Table.Td>
                {session.tls ? (
                  <Tooltip label={session.tls.cipher}>
                    <Badge miw={FIT} color="teal" variant="light" tt="none">
                      {session.tls.version}
                    </Badge>
                  </Tooltip>
                ) : (
                  <Badge miw={FIT} color="gray" variant="outline">
                    none
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1} maw={110} title={session.clientName ?? undefined}>
                  {session.clientName ?? '—'}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" lineClamp={1} maw={130} title={session.mailbox ?? undefined}>
                    {session.mailbox ?? '—'}
                  </Text>
                  {session.idle ? (
                    <Badge miw={FIT} color="indigo" variant="dot" data-testid="session-idle">
                      IDLE
                    </Badge>
                  ) : (
                    session.command && (
                      <Text size="xs" c="dimmed">
                        {session.command}
                      </Text>
                    )
                  )}
                </Group>
              </Table.Td>
              <Table.Td ta="right">
                <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                  {formatBytes(session.bytesIn)} / {formatBytes(session.bytesOut)}
                </Text>
              </Table.Td>
              <Table.Td ta="right" data-testid="session-duration">
                {formatDuration(ageSeconds(session, now))}
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  <Button
                    size="compact-xs"
                    color="red"
                    variant="light"
                    onClick={() => onKick(session)}
                    data-testid="session-kick"
                  >
                    Kick
                  </Button>
                  <Button
                    size="compact-xs"
                    color="red"
                    variant="subtle"
                    onClick={() => onBlock(session)}
                    data-testid="session-block"
                  >
                    Block
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

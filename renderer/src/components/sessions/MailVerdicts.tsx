/**
 * The last messages received on SMTP and LMTP while the page is open, from the event stream: where
 * each went (INBOX, Junk) or the reply that refused it, and why (authentication results, spam
 * score, list decisions, greylisting). The server's log keeps the same reasons.
 */
import { Badge, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useRef, useState } from 'react';
import { useEvents, type AdminEvent } from '../../api/events.ts';

const KEEP = 20;

interface Verdict {
  key: string;
  at: string;
  recipient: string;
  /** "INBOX", "Junk", or the refusal's reply. */
  outcome: string;
  refused: boolean;
  reasons: string[];
}

function verdictOf(event: AdminEvent, sequence: number): Verdict | null {
  if (event.type === 'delivery') {
    return {
      key: `${sequence}`,
      at: event.at,
      recipient: event.data.recipient,
      outcome: event.data.mailbox ?? 'INBOX',
      refused: false,
      reasons: event.data.reasons ?? [],
    };
  }
  if (event.type === 'delivery.refused') {
    return {
      key: `${sequence}`,
      at: event.at,
      recipient: (event.data.recipients ?? []).join(', '),
      outcome: event.data.reply,
      refused: true,
      reasons: event.data.reasons,
    };
  }
  return null;
}

export function MailVerdicts() {
  const [verdicts, setVerdicts] = useState<Verdict[]>([]);
  const sequence = useRef(0);
  useEvents(
    (event) => {
      const verdict = verdictOf(event, sequence.current++);
      if (!verdict) return;
      setVerdicts((current) => [verdict, ...current].slice(0, KEEP));
    },
    ['delivery', 'delivery.refused'],
  );

  return (
    <Card withBorder>
      <Stack gap="xs">
        <Title order={3} size="h4">
          Incoming mail
        </Title>
        {verdicts.length === 0 ? (
          <Text size="sm" c="dimmed" data-testid="mail-verdicts-empty">
            Messages received while this page is open appear here, with where they went and why.
          </Text>
        ) : (
          <Table data-testid="mail-verdicts">
            <Table.Tbody>
              {verdicts.map((verdict) => (
                <Table.Tr key={verdict.key} data-testid="mail-verdict-row">
                  <Table.Td>
                    <Text size="sm">{new Date(verdict.at).toLocaleTimeString()}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace" data-testid="mail-verdict-recipient">
                      {verdict.recipient || '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td miw={90}>
                    <Badge
                      variant="light"
                      color={verdict.refused ? 'red' : verdict.outcome === 'Junk' ? 'orange' : 'teal'}
                      size="sm"
                      data-testid="mail-verdict-outcome"
                    >
                      {verdict.refused ? 'refused' : verdict.outcome}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed" data-testid="mail-verdict-reasons">
                      {[verdict.refused ? verdict.outcome : '', ...verdict.reasons]
                        .filter(Boolean)
                        .join(' · ')}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Card>
  );
}

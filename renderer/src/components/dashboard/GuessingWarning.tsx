/**
 * Warns when someone is guessing passwords: the accounts with many failed logins in the server's
 * window (from `GET /api/status`, refreshed at once when the server sends an `auth.alert` event)
 * and how many guessing addresses are locked out. The accounts are not locked: their owners'
 * known devices still log in, so this says what happens and what the administrator may do.
 */
import { Alert, List, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useEvents } from '../../api/events.ts';
import type { StatusJson } from '../../api/status.ts';
import { formatDate } from '../format.ts';

export function GuessingWarning({ auth }: { auth: StatusJson['auth'] | undefined }) {
  const queryClient = useQueryClient();
  const onAlert = useCallback(
    () => void queryClient.invalidateQueries({ queryKey: ['status'] }),
    [queryClient],
  );
  useEvents(onAlert, ['auth.alert']);
  if (!auth || auth.accountsUnderAttack.length === 0) return null;
  const locked = auth.lockedAddresses;
  return (
    <Alert
      color="orange"
      variant="light"
      title="Someone is guessing passwords"
      data-testid="guessing-warning"
    >
      <List size="sm" spacing={2}>
        {auth.accountsUnderAttack.map((account) => (
          <List.Item key={account.username} data-testid="guessed-account">
            <b>{account.username}</b>: {account.failures} failed login{account.failures === 1 ? '' : 's'} from{' '}
            {account.addresses} address{account.addresses === 1 ? '' : 'es'} since {formatDate(account.since)}
          </List.Item>
        ))}
      </List>
      <Text size="sm" mt="xs">
        The accounts stay usable from the devices that already log in to them; logins from elsewhere are
        slowed down
        {locked > 0 ? `, and ${locked} guessing address${locked === 1 ? ' is' : 'es are'} locked out` : ''}.
        If a password may be weak, change it on the user&apos;s page; a connection rule can block a network
        for good.
      </Text>
    </Alert>
  );
}

/**
 * Logging in over the local network: the admin password plus the code from the authenticator app,
 * or one of the recovery codes. The admin token and one-time links do not work here.
 */
import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi, type PanelSession } from '../api/panel.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';

export function LanLoginForm({ session }: { session: PanelSession | null }) {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const login = useMutation({
    mutationFn: () =>
      panelApi.loginOverLan(password, useRecovery ? { recovery: code.trim() } : { code: code.trim() }),
    onSuccess: (next) => queryClient.setQueryData(['panel-session'], next),
  });
  if (session && !session.totpEnrolled)
    return (
      <Alert color="yellow" title="Two-factor authentication is not set up">
        Logging in over the network needs the admin password and a code from an authenticator app. Set it up
        on the server itself: open the panel there, Settings → “The panel from a phone”.
      </Alert>
    );
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (password !== '' && code.trim() !== '') login.mutate();
      }}
    >
      <Stack>
        <PasswordInput
          label="Admin password"
          value={password}
          onChange={(event) => setPassword(event.currentTarget.value)}
          autoFocus
          autoComplete="current-password"
        />
        <TextInput
          label={useRecovery ? 'Recovery code' : 'Code from your authenticator app'}
          value={code}
          onChange={(event) => setCode(event.currentTarget.value)}
          inputMode={useRecovery ? 'text' : 'numeric'}
          autoComplete="one-time-code"
        />
        {login.error && <ErrorNotice error={login.error} title="Login failed" />}
        <Button type="submit" loading={login.isPending} disabled={password === '' || code.trim() === ''}>
          Log in
        </Button>
        <Anchor
          component="button"
          type="button"
          size="sm"
          onClick={() => {
            setUseRecovery(!useRecovery);
            setCode('');
            login.reset();
          }}
        >
          {useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
        </Anchor>
      </Stack>
    </form>
  );
}

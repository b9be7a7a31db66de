/** Log in with the admin password, or with the admin token (first run, or a forgotten password). */
import { Anchor, Button, Center, Code, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi, type PanelSession } from '../api/panel.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { LanLoginForm } from './LanLoginForm.tsx';

export function LoginPage({ session, error }: { session: PanelSession | null; error: unknown }) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<'password' | 'token'>(session?.passwordSet ? 'password' : 'token');
  const [secret, setSecret] = useState('');
  const login = useMutation({
    mutationFn: () =>
      mode === 'password' ? panelApi.loginWithPassword(secret) : panelApi.loginWithToken(secret.trim()),
    onSuccess: (next) => queryClient.setQueryData(['panel-session'], next),
  });
  if (session?.lan)
    return (
      <Center mih="100vh" p="md">
        <Paper withBorder shadow="sm" p="xl" w={420} maw="100%" component="main">
          <Stack>
            <Title order={1} size="h2">
              Mallard
            </Title>
            <Text c="dimmed" size="sm">
              Log in to manage your mail server from this device.
            </Text>
            {error ? <ErrorNotice error={error} /> : null}
            <LanLoginForm session={session} />
          </Stack>
        </Paper>
      </Center>
    );
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} component="main">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (secret !== '') login.mutate();
          }}
        >
          <Stack>
            <Title order={1} size="h2">
              Mallard
            </Title>
            <Text c="dimmed" size="sm">
              Log in to manage your mail server.
            </Text>
            {error ? <ErrorNotice error={error} /> : null}
            <PasswordInput
              label={mode === 'password' ? 'Admin password' : 'Admin token'}
              description={
                mode === 'token' ? (
                  <>
                    The token is in the file <Code>admin.token</Code> in the data directory, or open the login
                    link that <Code>mallard panel</Code> printed.
                  </>
                ) : undefined
              }
              value={secret}
              onChange={(event) => setSecret(event.currentTarget.value)}
              autoFocus
              autoComplete={mode === 'password' ? 'current-password' : 'off'}
            />
            {login.error && <ErrorNotice error={login.error} title="Login failed" />}
            <Button type="submit" loading={login.isPending} disabled={secret === ''}>
              Log in
            </Button>
            {session?.passwordSet && (
              <Anchor
                component="button"
                type="button"
                size="sm"
                onClick={() => {
                  setMode(mode === 'password' ? 'token' : 'password');
                  setSecret('');
                  login.reset();
                }}
              >
                {mode === 'password' ? 'Use the admin token instead' : 'Use the admin password instead'}
              </Anchor>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

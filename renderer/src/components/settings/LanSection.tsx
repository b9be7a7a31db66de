/**
 * "The panel from a phone": the switch for the panel on the local network (HTTPS, the server's
 * certificate), the address to open, and the admin's second factor — a QR code for an
 * authenticator app and 10 recovery codes shown once. Only offered on the server itself: over the
 * network, the panel host refuses these calls.
 */
import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  Group,
  Image,
  List,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi } from '../../api/panel.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function LanSection({ overLan }: { overLan: boolean }) {
  const queryClient = useQueryClient();
  const lan = useQuery({ queryKey: ['panel-lan'], queryFn: panelApi.lan, enabled: !overLan });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => panelApi.setLan(enabled),
    onSuccess: (next) => queryClient.setQueryData(['panel-lan'], next),
  });
  const [enrolment, setEnrolment] = useState<{ secret: string; qr: string } | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const begin = useMutation({
    mutationFn: panelApi.beginTotp,
    onSuccess: (next) => {
      setEnrolment(next);
      setRecoveryCodes(null);
      setCode('');
    },
  });
  const confirm = useMutation({
    mutationFn: () => panelApi.confirmTotp(code.trim()),
    onSuccess: ({ recoveryCodes: codes, ...next }) => {
      queryClient.setQueryData(['panel-lan'], next);
      void queryClient.invalidateQueries({ queryKey: ['panel-session'] });
      setRecoveryCodes(codes);
      setEnrolment(null);
    },
  });

  if (overLan) return null;
  const state = lan.data;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="lan-title">
      <Title order={3} size="h4" mb="xs" id="lan-title">
        The panel from a phone
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Opens this panel to the local network over HTTPS, with the mail server’s certificate, so a phone can
        use it and fetch its mail set-up. Logging in there takes the admin password and a code from an
        authenticator app.
      </Text>
      {lan.error && <ErrorNotice error={lan.error} title="The panel’s network access could not be read" />}
      {state && (
        <Stack>
          <Switch
            label="Reachable from the local network"
            checked={state.enabled}
            disabled={toggle.isPending}
            onChange={(event) => toggle.mutate(event.currentTarget.checked)}
          />
          {toggle.error && <ErrorNotice error={toggle.error} title="The change failed" />}
          {state.enabled && state.url && (
            <Alert color="yellow" title="Anyone on your network can reach the login page">
              Open <Anchor href={`${state.url}/`}>{state.url}/</Anchor> on a phone on the same network. Turn
              this off when you do not need it; keep the admin password strong. A phone that does not trust
              the certificate yet shows a warning: install the certificate authority first (Connect a device).
            </Alert>
          )}
          <Text size="sm">
            Two-factor authentication:{' '}
            {state.totpEnrolled
              ? `set up (${state.recoveryCodesLeft} recovery codes left).`
              : 'not set up — logging in over the network is refused until it is.'}
          </Text>
          {!enrolment && (
            <Group>
              <Button variant="default" loading={begin.isPending} onClick={() => begin.mutate()}>
                {state.totpEnrolled ? 'Set up a new authenticator' : 'Set up two-factor authentication'}
              </Button>
            </Group>
          )}
          {begin.error && <ErrorNotice error={begin.error} />}
          {enrolment && (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                if (code.trim() !== '') confirm.mutate();
              }}
            >
              <Stack>
                <Text size="sm">
                  Scan this code with an authenticator app (or type the key), then enter the 6 digits it
                  shows.
                </Text>
                <Image src={enrolment.qr} alt="QR code for the authenticator app" w={200} h={200} />
                <Text size="sm">
                  Key: <Code data-testid="totp-secret">{enrolment.secret}</Code>
                </Text>
                <Group align="flex-end">
                  <TextInput
                    label="Code from the app"
                    value={code}
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    onChange={(event) => {
                      confirm.reset();
                      setCode(event.currentTarget.value);
                    }}
                  />
                  <Button type="submit" loading={confirm.isPending} disabled={code.trim() === ''}>
                    Confirm
                  </Button>
                </Group>
                {confirm.error && <ErrorNotice error={confirm.error} title="Not confirmed" />}
              </Stack>
            </form>
          )}
          {recoveryCodes && (
            <Alert color="blue" title="Recovery codes — shown only now">
              <Text size="sm" mb="xs">
                Keep these somewhere safe. Each one logs in once instead of a code from the app.
              </Text>
              <List size="sm" data-testid="recovery-codes">
                {recoveryCodes.map((one) => (
                  <List.Item key={one}>
                    <Code>{one}</Code>
                  </List.Item>
                ))}
              </List>
            </Alert>
          )}
        </Stack>
      )}
    </Card>
  );
}

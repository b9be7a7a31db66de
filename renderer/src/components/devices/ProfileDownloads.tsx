/**
 * The set-up files for one user, made here in the browser: an Apple configuration profile and a
 * Thunderbird autoconfig file. The admin may add a password (kept out otherwise), the outgoing
 * server of the user's provider, and the local CA.
 */
import {
  Button,
  Card,
  Checkbox,
  Divider,
  Group,
  NativeSelect,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { devicesApi, toBase64 } from '../../api/devices.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { saveFile } from './download.ts';
import { outgoingServer, type OutgoingForm, type ServerEndpoints } from './endpoints.ts';
import {
  mobileconfig,
  safeFileName,
  thunderbirdAutoconfig,
  type AccountSettings,
  type Security,
} from './profiles.ts';

export function ProfileDownloads({
  hostname,
  username,
  displayName,
  endpoints,
  hasLocalCa,
}: {
  hostname: string;
  username: string;
  displayName: string;
  endpoints: ServerEndpoints;
  hasLocalCa: boolean;
}) {
  const protocols = [...new Set(endpoints.incoming.map((endpoint) => endpoint.protocol))];
  const [accountType, setAccountType] = useState<'imap' | 'pop3'>(protocols[0] ?? 'imap');
  const [password, setPassword] = useState('');
  const [includeCa, setIncludeCa] = useState(hasLocalCa);
  const [outgoing, setOutgoing] = useState<OutgoingForm>({
    hostname: '',
    port: 587,
    security: 'starttls',
    authenticate: true,
  });
  const type = protocols.includes(accountType) ? accountType : (protocols[0] ?? 'imap');

  const account: AccountSettings = {
    hostname,
    email: username,
    displayName,
    incoming: endpoints.incoming,
    outgoing: outgoingServer(outgoing, hostname, endpoints),
  };

  const apple = useMutation({
    mutationFn: async () => {
      const caDerBase64 = includeCa && hasLocalCa ? toBase64(await devicesApi.authorityDer()) : undefined;
      const text = mobileconfig({ account, accountType: type, password: password || undefined, caDerBase64 });
      saveFile(text, `${safeFileName(username)}.mobileconfig`, 'application/x-apple-aspen-config');
    },
  });

  function downloadThunderbird() {
    saveFile(thunderbirdAutoconfig(account), 'config-v1.1.xml', 'application/xml');
  }

  const noIncoming = protocols.length === 0;
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Set-up files
        </Title>
        <Text size="sm" c="dimmed">
          Made in this browser from the settings above. Open the Apple profile on an iPhone, iPad or Mac; put
          the Thunderbird file at https://autoconfig.&lt;domain&gt;/mail/config-v1.1.xml or open it with
          Thunderbird's manual set-up.
        </Text>
        <Group align="flex-end">
          <Stack gap={4}>
            <Text size="sm" fw={500} id="profile-type-label">
              Apple profile account type
            </Text>
            <SegmentedControl
              aria-labelledby="profile-type-label"
              value={type}
              onChange={(value) => setAccountType(value as 'imap' | 'pop3')}
              data={[
                { value: 'imap', label: 'IMAP', disabled: !protocols.includes('imap') },
                { value: 'pop3', label: 'POP3', disabled: !protocols.includes('pop3') },
              ]}
            />
          </Stack>
          <PasswordInput
            label="Password in the profile (optional)"
            description="Left empty, the device asks for it. Anyone with the file can read it."
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            autoComplete="off"
            w={340}
            data-testid="profile-password"
          />
        </Group>
        <Checkbox
          label="Include the local CA, so the device trusts the server's certificate"
          checked={includeCa && hasLocalCa}
          disabled={!hasLocalCa}
          onChange={(event) => setIncludeCa(event.currentTarget.checked)}
          data-testid="profile-include-ca"
        />
        <Divider label="Outgoing mail server (left empty: this server)" labelPosition="left" />
        <Group align="flex-start">
          <TextInput
            label="SMTP server"
            placeholder="smtp.provider.example"
            value={outgoing.hostname}
            onChange={(event) => setOutgoing({ ...outgoing, hostname: event.currentTarget.value })}
            w={260}
            data-testid="outgoing-host"
          />
          <NumberInput
            label="Port"
            min={1}
            max={65535}
            allowDecimal={false}
            allowNegative={false}
            value={outgoing.port}
            onChange={(port) => setOutgoing({ ...outgoing, port })}
            w={110}
          />
          <NativeSelect
            label="Security"
            value={outgoing.security}
            onChange={(event) =>
              setOutgoing({ ...outgoing, security: event.currentTarget.value as Security })
            }
            data={[
              { value: 'starttls', label: 'STARTTLS' },
              { value: 'ssl', label: 'SSL/TLS' },
              { value: 'none', label: 'None' },
            ]}
            w={130}
          />
          <Switch
            label="Log in with the same username and password"
            checked={outgoing.authenticate}
            onChange={(event) => setOutgoing({ ...outgoing, authenticate: event.currentTarget.checked })}
            mt={30}
          />
        </Group>
        {outgoing.hostname.trim() === '' &&
          (endpoints.submission ? (
            <Text size="sm" c="dimmed" data-testid="outgoing-placeholder">
              Left empty, the files send through this server: {hostname} port {endpoints.submission.port} (
              {endpoints.submission.security === 'ssl' ? 'SSL/TLS' : 'STARTTLS'}) with the account&apos;s
              login.
            </Text>
          ) : (
            <Text size="sm" c="dimmed" data-testid="outgoing-placeholder">
              Submission is off, so the files name {hostname} port {endpoints.smtpIn ?? 25} as the outgoing
              server: it accepts mail only for this server&apos;s own users. Turn submission on in Settings,
              or set the user&apos;s provider here.
            </Text>
          ))}
        <Group>
          <Button
            onClick={() => apple.mutate()}
            loading={apple.isPending}
            disabled={noIncoming}
            data-testid="download-mobileconfig"
          >
            Download Apple profile (.mobileconfig)
          </Button>
          <Button
            variant="light"
            onClick={downloadThunderbird}
            disabled={noIncoming}
            data-testid="download-autoconfig"
          >
            Download Thunderbird autoconfig
          </Button>
        </Group>
        <ErrorNotice error={apple.error} title="The profile could not be made" />
      </Stack>
    </Card>
  );
}

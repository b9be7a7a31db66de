/**
 * Sending: straight to each recipient domain's mail servers, or through a relay (smarthost) — what
 * most home connections need, as ISPs block outgoing port 25. The relay's password is never sent
 * to the page: a set one shows as a mask, and the mask saved back leaves it unchanged.
 */
import {
  Card,
  Group,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { FieldPath, FieldValue } from './settingsForm.ts';

interface Props {
  values: Record<FieldPath, FieldValue>;
  errorOf: (path: FieldPath) => string | undefined;
  set: (path: FieldPath, value: FieldValue) => void;
}

export function SendingSection({ values, errorOf, set }: Props) {
  const host = String(values['outbound.relay.host']);
  const viaRelay = host.trim() !== '';
  return (
    <Card withBorder padding="lg" data-testid="sending-section">
      <Title order={3} size="h4" mb="xs">
        Sending
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Mail to other domains goes straight to their mail servers, or through your provider&apos;s SMTP server
        (a relay) — needed when your connection blocks outgoing port 25, as most home connections do.
      </Text>
      <Stack gap="sm">
        <SegmentedControl
          value={viaRelay ? 'relay' : 'direct'}
          onChange={(mode) => set('outbound.relay.host', mode === 'relay' ? host || 'smtp.' : '')}
          data={[
            { value: 'direct', label: 'Direct (MX)' },
            { value: 'relay', label: 'Through a relay' },
          ]}
          maw={360}
          data-testid="sending-mode"
        />
        {viaRelay && (
          <>
            <Group align="flex-start" grow maw={640}>
              <TextInput
                label="Relay host"
                value={host}
                onChange={(event) => set('outbound.relay.host', event.currentTarget.value)}
                error={errorOf('outbound.relay.host')}
                spellCheck={false}
                data-testid="field-relay-host"
              />
              <NumberInput
                label="Port"
                value={values['outbound.relay.port'] as number | string}
                onChange={(value) => set('outbound.relay.port', value)}
                error={errorOf('outbound.relay.port')}
                min={1}
                max={65535}
                allowDecimal={false}
                hideControls
                data-testid="field-relay-port"
              />
              <Select
                label="Security"
                value={String(values['outbound.relay.tls'])}
                onChange={(value) => value && set('outbound.relay.tls', value)}
                data={[
                  { value: 'starttls', label: 'STARTTLS (587)' },
                  { value: 'tls', label: 'TLS (465)' },
                  { value: 'none', label: 'None' },
                ]}
                allowDeselect={false}
                data-testid="field-relay-tls"
              />
            </Group>
            <Group align="flex-start" grow maw={640}>
              <TextInput
                label="User name"
                value={String(values['outbound.relay.username'])}
                onChange={(event) => set('outbound.relay.username', event.currentTarget.value)}
                spellCheck={false}
                data-testid="field-relay-username"
              />
              <PasswordInput
                label="Password"
                value={String(values['outbound.relay.password'])}
                onChange={(event) => set('outbound.relay.password', event.currentTarget.value)}
                data-testid="field-relay-password"
              />
            </Group>
          </>
        )}
      </Stack>
    </Card>
  );
}

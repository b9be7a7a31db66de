/**
 * Settings: host name, protocols on/off and their ports, limits, sending (direct or a relay) and the
 * store engine, validated as the user types and by the server on save (its issues shown on the
 * fields). Saved settings take effect after a restart, offered right there with progress. Below:
 * the panel's admin password.
 */
import {
  Alert,
  Button,
  Card,
  Group,
  List,
  Loader,
  NumberInput,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { panelApi } from '../api/panel.ts';
import { settingsApi, type SettingsJson } from '../api/settings.ts';
import { RestartProgress } from '../components/dashboard/RestartServerButton.tsx';
import { useServerRestart } from '../components/dashboard/useServerRestart.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { formatBytes } from '../components/format.ts';
import { useServerStatus } from '../components/ServerStateBadge.tsx';
import { LanSection } from '../components/settings/LanSection.tsx';
import { PasswordSection } from '../components/settings/PasswordSection.tsx';
import {
  forgetPending,
  pendingFor,
  rememberPending,
  type PendingSettings,
} from '../components/settings/pending.ts';
import {
  PROTOCOLS,
  fromSettings,
  issuesToFields,
  toPatch,
  validate,
  type FieldErrors,
  type FieldPath,
  type FieldValue,
} from '../components/settings/settingsForm.ts';
import { DnsRecordsSection } from '../components/settings/DnsRecordsSection.tsx';
import { SendingSection } from '../components/settings/SendingSection.tsx';
import { SpamSection } from '../components/settings/SpamSection.tsx';
import { StoreSection } from '../components/settings/StoreSection.tsx';
import type { SpamSettings } from '../api/spam.ts';

export function SettingsPage() {
  const settings = useQuery({ queryKey: ['settings'], queryFn: settingsApi.get, staleTime: Infinity });
  const supervisor = useServerStatus();
  const session = useQuery({ queryKey: ['panel-session'], queryFn: panelApi.session, staleTime: 60_000 });
  const ready = settings.data && (supervisor.data || supervisor.error);

  return (
    <Stack gap="lg">
      <Title order={2}>Settings</Title>
      {settings.error && <ErrorNotice error={settings.error} title="The settings could not be read" />}
      {!settings.error && !ready && <Loader aria-label="Loading settings" />}
      {ready && (
        <SettingsForm
          inForce={settings.data}
          processStartedAt={supervisor.data?.startedAt ?? null}
          running={supervisor.data?.state === 'running'}
        />
      )}
      {settings.data && <SpamSection inForce={settings.data.spam as SpamSettings} />}
      <PasswordSection passwordSet={session.data?.passwordSet ?? false} />
      <LanSection overLan={session.data?.lan ?? false} />
    </Stack>
  );
}

function SettingsForm({
  inForce,
  processStartedAt,
  running,
}: {
  inForce: SettingsJson;
  processStartedAt: string | null;
  running: boolean;
}) {
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<PendingSettings | null>(() => pendingFor(processStartedAt));
  const [restarted, setRestarted] = useState(false);
  // What the next start will use: the saved file when a save waits for a restart.
  const base = pending?.settings ?? inForce;
  const [values, setValues] = useState(() => fromSettings(base));
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [touched, setTouched] = useState<ReadonlySet<FieldPath>>(new Set());
  const [submitted, setSubmitted] = useState(false);

  // A new server process (restarted here, elsewhere or after a crash) read the saved file.
  useEffect(() => {
    if (!pending || !running || pending.processStartedAt === processStartedAt) return;
    forgetPending();
    setPending(null);
    setRestarted(true);
    void queryClient.invalidateQueries({ queryKey: ['settings'] });
  }, [pending, processStartedAt, running, queryClient]);
  useEffect(() => setValues(fromSettings(base)), [base]);

  const errors = useMemo(() => validate(values, base), [values, base]);
  const patch = useMemo(() => toPatch(values, base), [values, base]);
  const dirty = Object.keys(patch).length > 0;
  const invalid = Object.keys(errors).length > 0;

  const save = useMutation({
    mutationFn: () => settingsApi.save(patch),
    onSuccess: (result) => {
      setRestarted(false);
      setPending(rememberPending(result, processStartedAt));
      setServerErrors({});
      setTouched(new Set());
      setSubmitted(false);
    },
    onError: (error) => {
      if (error instanceof ApiError) setServerErrors(issuesToFields(error.issues).fields);
    },
  });
  const otherIssues = save.error instanceof ApiError ? issuesToFields(save.error.issues).other : [];

  function set(path: FieldPath, value: FieldValue) {
    setValues((current) => ({ ...current, [path]: value }));
    setTouched((current) => new Set(current).add(path));
    setServerErrors(({ [path]: _gone, ...rest }) => rest);
  }

  /** Mistakes show once a field was changed, and all of them on a save attempt. */
  const errorOf = (path: FieldPath) =>
    serverErrors[path] ?? (submitted || touched.has(path) ? errors[path] : undefined);
  const size = Number(values['limits.max_message_size']);

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setSubmitted(true);
        if (!invalid && dirty) save.mutate();
      }}
      data-testid="settings-form"
    >
      <Stack gap="lg">
        <Card withBorder padding="lg">
          <Title order={3} size="h4" mb="md">
            General
          </Title>
          <TextInput
            label="Host name"
            description="The name mail clients use to reach this server; also in greetings and certificates."
            value={String(values.hostname)}
            onChange={(event) => set('hostname', event.currentTarget.value)}
            error={errorOf('hostname')}
            required
            maw={480}
            spellCheck={false}
            data-testid="field-hostname"
          />
        </Card>

        <Card withBorder padding="lg">
          <Title order={3} size="h4" mb="xs">
            Protocols and ports
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            Switch a protocol off to stop listening for it; its ports are kept for later. Ports below 1024
            need extra rights on Linux.
          </Text>
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={70}>On</Table.Th>
                  <Table.Th>Protocol</Table.Th>
                  <Table.Th>Ports</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {PROTOCOLS.map((protocol) => {
                  const on = values[`${protocol.key}.enabled`] === true;
                  return (
                    <Table.Tr key={protocol.key} data-testid={`protocol-${protocol.key}`}>
                      <Table.Td>
                        <Switch
                          checked={on}
                          onChange={(event) => set(`${protocol.key}.enabled`, event.currentTarget.checked)}
                          aria-label={`${protocol.label} on`}
                          data-testid={`toggle-${protocol.key}`}
                        />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" fw={500}>
                          {protocol.label}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {protocol.hint}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap="sm" align="flex-start">
                          {protocol.ports.map((port) => (
                            <NumberInput
                              key={port.path}
                              label={port.label}
                              aria-label={`${protocol.label} ${port.label.toLowerCase()}`}
                              description={`usually ${port.usual}`}
                              value={values[port.path] as number | string}
                              onChange={(value) => set(port.path, value)}
                              disabled={!on}
                              min={0}
                              max={65535}
                              allowDecimal={false}
                              allowNegative={false}
                              clampBehavior="none"
                              hideControls
                              w={140}
                              size="xs"
                              error={on ? errorOf(port.path) : undefined}
                              data-testid={`field-${port.path}`}
                            />
                          ))}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>

        <Card withBorder padding="lg">
          <Title order={3} size="h4" mb="md">
            Limits
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label="Largest message (bytes)"
              description={
                Number.isFinite(size) && size > 0 ? `= ${formatBytes(size)}; bigger ones are refused` : ' '
              }
              value={values['limits.max_message_size'] as number | string}
              onChange={(value) => set('limits.max_message_size', value)}
              min={1024}
              allowDecimal={false}
              allowNegative={false}
              thousandSeparator=" "
              clampBehavior="none"
              error={errorOf('limits.max_message_size')}
              data-testid="field-max-message-size"
            />
            <NumberInput
              label="Longest command line (bytes)"
              description="From 1024 bytes to 16 MB"
              value={values['limits.max_line_length'] as number | string}
              onChange={(value) => set('limits.max_line_length', value)}
              min={1024}
              allowDecimal={false}
              allowNegative={false}
              thousandSeparator=" "
              clampBehavior="none"
              error={errorOf('limits.max_line_length')}
              data-testid="field-max-line-length"
            />
          </SimpleGrid>
        </Card>

        <SendingSection values={values} errorOf={errorOf} set={set} />

        <DnsRecordsSection />

        <StoreSection
          engine={String(values['store.engine'])}
          uri={String(values['store.mongodb.uri'])}
          uriError={errorOf('store.mongodb.uri')}
          engineError={errorOf('store.engine')}
          localMongod={String(base.store.mongodb.local ?? '') !== ''}
          inForceEngine={base.store.engine}
          onEngine={(engine) => set('store.engine', engine)}
          onUri={(uri) => set('store.mongodb.uri', uri)}
        />

        {save.error && <ErrorNotice error={save.error} title="The settings were not saved" />}
        {otherIssues.length === 1 && (
          <Text size="sm" c="red">
            {otherIssues[0]!.message}
          </Text>
        )}
        {pending && !dirty && (
          <SavedNotice
            pending={pending}
            onRestarted={() => {
              forgetPending();
              setPending(null);
              setRestarted(true);
            }}
          />
        )}
        {restarted && !pending && !dirty && (
          <Alert
            color="teal"
            variant="light"
            title="The new settings are in force"
            role="status"
            withCloseButton
            onClose={() => setRestarted(false)}
            data-testid="restart-done"
          >
            The server restarted with the saved settings.
          </Alert>
        )}

        <Group justify="flex-end" gap="sm">
          {submitted && invalid && (
            <Text size="sm" c="red" role="alert">
              Please correct the fields marked in red.
            </Text>
          )}
          <Button
            variant="default"
            disabled={!dirty || save.isPending}
            onClick={() => {
              setValues(fromSettings(base));
              setTouched(new Set());
              setServerErrors({});
              setSubmitted(false);
              save.reset();
            }}
          >
            Discard changes
          </Button>
          <Button type="submit" loading={save.isPending} disabled={!dirty} data-testid="settings-save">
            Save settings
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** After a save: the new settings wait for a restart, offered here with its progress. */
function SavedNotice({ pending, onRestarted }: { pending: PendingSettings; onRestarted: () => void }) {
  const queryClient = useQueryClient();
  const restart = useServerRestart();
  const busy = restart.phase === 'requesting' || restart.phase === 'waiting';
  const done = restart.phase === 'done';

  const reported = useRef(false);
  useEffect(() => {
    if (!done || reported.current) return;
    reported.current = true;
    onRestarted();
    void queryClient.invalidateQueries({ queryKey: ['settings'] });
  }, [done, onRestarted, queryClient]);

  return (
    <Alert
      color="blue"
      variant="light"
      title="Saved: restart the server to apply"
      role="status"
      data-testid="restart-required"
    >
      <Stack gap="sm">
        <Text size="sm">
          The settings are saved{pending.file ? ` in ${pending.file}` : ''}. The server uses them after a
          restart, which closes the open connections (mail clients reconnect by themselves).
        </Text>
        {pending.warnings.length > 0 && (
          <List size="sm">
            {pending.warnings.map((warning) => (
              <List.Item key={warning}>{warning}</List.Item>
            ))}
          </List>
        )}
        <RestartProgress phase={restart.phase} state={restart.state} />
        {restart.phase === 'failed' && <ErrorNotice error={restart.error} title="The restart failed" />}
        <Group>
          <Button
            color="orange"
            onClick={() => void restart.restart()}
            loading={busy}
            data-testid="restart-now"
          >
            Restart the server now
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

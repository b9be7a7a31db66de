/**
 * Bring mail in from another IMAP server (Gmail and Outlook.com with an app password): a form that
 * starts a job on the server, and the user's jobs with progress, polled each second while one
 * runs, with Cancel, Re-run (only what is new) and the report of what was skipped.
 */
import {
  Button,
  Card,
  Checkbox,
  Group,
  NumberInput,
  PasswordInput,
  Progress,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { importKeys, importsApi, type ImportJobJson, type NewImport } from '../../api/imports.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatBytes } from '../format.ts';

function eta(seconds: number | null): string {
  if (seconds === null) return 'ETA unknown';
  const m = Math.floor(seconds / 60);
  return `ETA ${m > 0 ? `${m} min ` : ''}${seconds % 60} s`;
}

function JobRow({ job, onChanged }: { job: ImportJobJson; onChanged: () => Promise<void> }) {
  const cancel = useMutation({ mutationFn: () => importsApi.cancel(job.id), onSuccess: onChanged });
  const rerun = useMutation({ mutationFn: () => importsApi.rerun(job.id), onSuccess: onChanged });
  const { messages, bytes } = job;
  const percent = bytes.total > 0 ? (100 * bytes.done) / bytes.total : job.state === 'running' ? 0 : 100;
  return (
    <Stack gap={4} data-testid="import-job" data-state={job.state}>
      <Group justify="space-between">
        <Text size="sm" fw={600}>
          {job.source
            ? `${job.source.login} at ${job.source.host}:${job.source.port}`
            : `${job.file?.name ?? 'file'} (${formatBytes(job.file?.bytes ?? 0)}, uploaded)`}
        </Text>
        <Text size="sm" data-testid="import-state">
          {job.state}
        </Text>
      </Group>
      <Progress value={percent} animated={job.state === 'running'} />
      <Text size="sm" data-testid="import-progress">
        {messages.done}/{messages.total} messages, {formatBytes(bytes.done)} of {formatBytes(bytes.total)}
        {job.state === 'running' ? ` · ${eta(job.etaSeconds)}` : ''} · {messages.imported} imported,{' '}
        {messages.duplicates} already here, {job.skipped.length} skipped
      </Text>
      {job.error && (
        <Text size="sm" c="red" data-testid="import-error">
          {job.error}
        </Text>
      )}
      {job.skipped.map((entry, index) => (
        <Text key={index} size="xs" c="dimmed" data-testid="import-skipped">
          {entry.folder}
          {entry.uid === null ? '' : ` uid ${entry.uid}`}: {entry.reason}
        </Text>
      ))}
      <Group gap="xs">
        {job.state === 'running' ? (
          <Button
            size="xs"
            variant="light"
            color="red"
            onClick={() => cancel.mutate()}
            data-testid="import-cancel"
          >
            Cancel
          </Button>
        ) : (
          job.passwordKept && (
            <Button size="xs" variant="light" onClick={() => rerun.mutate()} data-testid="import-rerun">
              Re-run (only what is new)
            </Button>
          )
        )}
      </Group>
      <ErrorNotice error={cancel.error ?? rerun.error} />
    </Stack>
  );
}

export function ImportCard({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const jobs = useQuery({
    queryKey: importKeys.of(userId),
    queryFn: () => importsApi.list(userId),
    // Each second while a job runs: the progress moves.
    refetchInterval: (query) =>
      query.state.data?.jobs.some((job) => job.state === 'running') ? 1000 : false,
  });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: importKeys.of(userId) });
  const [form, setForm] = useState<NewImport>({
    host: '',
    security: 'tls',
    login: '',
    password: '',
    includeAllMail: false,
    keepPassword: false,
  });
  const start = useMutation({
    mutationFn: () => importsApi.start(userId, form),
    onSuccess: async () => {
      setForm((value) => ({ ...value, password: '' }));
      await invalidate();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate();
  };
  return (
    <Card withBorder data-testid="import-card">
      <Stack>
        <Title order={3} size="h4">
          Import from another server
        </Title>
        <Text size="sm" c="dimmed">
          Copies every folder over IMAP with flags and dates. Gmail and Outlook.com need an app password. The
          password is held in the server&apos;s memory only, and after the import only if you keep it for
          re-runs.
        </Text>
        <form onSubmit={submit}>
          <Stack gap="xs">
            <Group grow>
              <TextInput
                label="Server"
                placeholder="imap.gmail.com"
                value={form.host}
                onChange={(e) => setForm({ ...form, host: e.currentTarget.value })}
                required
                data-testid="import-host"
              />
              <Select
                label="Security"
                data={[
                  { value: 'tls', label: 'TLS (993)' },
                  { value: 'starttls', label: 'STARTTLS (143)' },
                  { value: 'plain', label: 'None (143)' },
                ]}
                value={form.security}
                onChange={(value) =>
                  setForm({ ...form, security: (value ?? 'tls') as NewImport['security'] })
                }
                allowDeselect={false}
                data-testid="import-security"
              />
              <NumberInput
                label="Port"
                placeholder="default"
                min={1}
                max={65535}
                value={form.port ?? ''}
                onChange={(value) =>
                  setForm({ ...form, port: typeof value === 'number' ? value : undefined })
                }
                data-testid="import-port"
              />
            </Group>
            <Group grow>
              <TextInput
                label="Login"
                value={form.login}
                onChange={(e) => setForm({ ...form, login: e.currentTarget.value })}
                required
                data-testid="import-login"
              />
              <PasswordInput
                label="Password or app password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
                required
                data-testid="import-password"
              />
            </Group>
            <Checkbox
              label="Gmail: import All Mail too (its mail is also in the other folders)"
              checked={form.includeAllMail}
              onChange={(e) => setForm({ ...form, includeAllMail: e.currentTarget.checked })}
            />
            <Checkbox
              label="Keep the password until the server stops, for re-runs"
              checked={form.keepPassword}
              onChange={(e) => setForm({ ...form, keepPassword: e.currentTarget.checked })}
              data-testid="import-keep-password"
            />
            <Group>
              <Button type="submit" loading={start.isPending} data-testid="import-start">
                Start import
              </Button>
            </Group>
            <ErrorNotice error={start.error} />
          </Stack>
        </form>
        <ErrorNotice error={jobs.error} />
        {jobs.data?.jobs.map((job) => (
          <JobRow key={job.id} job={job} onChanged={invalidate} />
        ))}
      </Stack>
    </Card>
  );
}

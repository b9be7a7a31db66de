/**
 * Step 2: the server's public name — what phones connect to, what the greeting, the Received
 * headers and the device profiles say, and what the certificate must cover. Saved to the
 * configuration and in force after a restart, which this step does.
 */
import { Alert, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { certificatesApi } from '../../api/certificates.ts';
import { settingsApi } from '../../api/settings.ts';
import type { SetupJson } from '../../api/setup.ts';
import { useServerRestart } from '../dashboard/useServerRestart.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

/** Why a name will not do as the public name, or null. */
export function publicNameProblem(value: string): string | null {
  const name = value.trim().toLowerCase();
  if (name === '') return 'A name such as mail.example.org';
  if (!name.includes('.')) return 'A DNS name with a dot (mail.example.org), not the machine’s name';
  if (/^[0-9.]+$/.test(name) || name.includes(':')) return 'A name, not an address';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'Other machines cannot reach localhost';
  return /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(name) ? null : 'Not a host name';
}

export function PublicNameStep({ setup, onChanged }: { setup: SetupJson; onChanged: () => void }) {
  const [name, setName] = useState(setup.hostname);
  const certificates = useQuery({ queryKey: ['certificates'], queryFn: certificatesApi.list });
  const restart = useServerRestart();
  const save = useMutation({
    mutationFn: (hostname: string) => settingsApi.save({ hostname }),
    onSuccess: () => void restart.restart(),
  });
  useEffect(() => {
    if (restart.phase === 'done') onChanged();
  }, [restart.phase, onChanged]);

  const active = certificates.data?.find((certificate) => certificate.active);
  const suggestions = (active?.names ?? []).filter(
    (candidate) => !candidate.startsWith('*') && !publicNameProblem(candidate),
  );
  const problem = publicNameProblem(name);
  const busy = save.isPending || restart.phase === 'requesting' || restart.phase === 'waiting';
  return (
    <Stack gap="sm">
      <Text size="sm">
        The name phones and other mail servers use to reach this machine, such as <b>mail.example.org</b>. The
        server greets with it, writes it in Received headers and device profiles, and the certificate must
        cover it. It runs as <b data-testid="setup-running-hostname">{setup.hostname}</b> now.
      </Text>
      {suggestions.length > 0 && !suggestions.includes(setup.hostname) && (
        <Alert color="blue" variant="light" title="The active certificate is for another name">
          <Group gap="xs">
            {suggestions.map((suggestion) => (
              <Button key={suggestion} size="xs" variant="light" onClick={() => setName(suggestion)}>
                Use {suggestion}
              </Button>
            ))}
          </Group>
        </Alert>
      )}
      <Group align="flex-start">
        <TextInput
          label="Public name"
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          error={name !== setup.hostname ? problem : null}
          data-testid="setup-hostname-input"
          w={320}
        />
        <Button
          mt={24}
          loading={busy}
          disabled={problem !== null || name.trim().toLowerCase() === setup.hostname}
          onClick={() => save.mutate(name.trim().toLowerCase())}
          data-testid="setup-hostname-save"
        >
          Save and restart
        </Button>
      </Group>
      {restart.phase === 'waiting' && <Text size="sm">Restarting the server…</Text>}
      <ErrorNotice error={save.error ?? restart.error} title="The name was not applied" />
    </Stack>
  );
}

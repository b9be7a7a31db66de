/** Step 1: the mail domains, the part of every address after the @. */
import { Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { setupApi, type SetupJson } from '../../api/setup.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** What is wrong with a typed domain, or null (a name without a dot cannot receive mail from others). */
export function domainProblem(value: string): string | null {
  const name = value.trim();
  if (name === '') return null;
  if (name.includes('@')) return 'Only the part after the @ (example.org)';
  if (!name.includes('.')) return 'A domain has a dot (example.org)';
  return DOMAIN.test(name) ? null : 'Not a domain name';
}

export function DomainsStep({ setup, onChanged }: { setup: SetupJson; onChanged: () => void }) {
  const [name, setName] = useState('');
  const problem = domainProblem(name);
  const add = useMutation({
    mutationFn: (domain: string) => setupApi.addDomain(domain),
    onSuccess: () => {
      setName('');
      onChanged();
    },
  });
  return (
    <Stack gap="sm">
      <Text size="sm">
        The domain your addresses end in — for <b>anna@example.org</b> it is <b>example.org</b>. You need to
        own it: its DNS records will point other mail servers here.
      </Text>
      <Text size="sm" data-testid="setup-domains">
        {setup.domains.length > 0 ? `Mail domains: ${setup.domains.join(', ')}` : 'No mail domain yet.'}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!problem && name.trim() !== '') add.mutate(name.trim().toLowerCase());
        }}
      >
        <Group align="flex-start">
          <TextInput
            label="Add a domain"
            placeholder="example.org"
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={problem}
            data-testid="setup-domain-input"
          />
          <Button
            type="submit"
            mt={24}
            loading={add.isPending}
            disabled={problem !== null || name.trim() === ''}
          >
            Add
          </Button>
        </Group>
      </form>
      <ErrorNotice error={add.error} title="The domain was not added" />
    </Stack>
  );
}

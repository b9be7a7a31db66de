/**
 * One mail domain: its catch-all, the DKIM switch, the DNS records to publish (DKIM's public key
 * among them, ready to copy), a DNS check, and Remove (the server refuses while users or aliases
 * are in it, and the dialog says how many).
 */
import { Badge, Button, Card, Group, Loader, Stack, Switch, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { domainsApi, type DomainListItemJson } from '../../api/domains.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { ConfirmModal } from '../rules/ConfirmModal.tsx';
import { DnsRecordsTable } from '../settings/DnsRecordsTable.tsx';
import { CheckDomain } from '../setup/DnsStep.tsx';
import { CatchAllForm } from './CatchAllForm.tsx';

function DomainRecords({ domain }: { domain: string }) {
  const records = useQuery({ queryKey: ['domains', domain, 'dns'], queryFn: () => domainsApi.dns(domain) });
  if (records.isPending) return <Loader size="sm" aria-label="Loading the records" />;
  if (records.error) return <ErrorNotice error={records.error} title="The records could not be loaded" />;
  return <DnsRecordsTable domain={domain} records={records.data.records} />;
}

/** "2 users, 1 alias" */
export function usageLabel({ users, aliases }: { users: number; aliases: number }): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${count(users, 'user', 'users')}, ${count(aliases, 'alias', 'aliases')}`;
}

export function DomainCard({ domain, onChanged }: { domain: DomainListItemJson; onChanged: () => void }) {
  const inUse = domain.users + domain.aliases > 0;
  const [showRecords, setShowRecords] = useState(false);
  const [removing, setRemoving] = useState(false);
  const dkim = useMutation({
    mutationFn: (on: boolean) => domainsApi.update(domain.name, { dkim: on }),
    onSuccess: onChanged,
  });
  return (
    <Card withBorder padding="lg" data-testid="domain-card" data-domain={domain.name}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="sm">
            <Title order={3} size="h4">
              {domain.name}
            </Title>
            <Text size="sm" c="dimmed" data-testid="domain-usage">
              {usageLabel(domain)}
            </Text>
            {domain.catchAll && (
              <Badge variant="light" data-testid="domain-catchall-badge">
                catch-all → {domain.catchAll}
              </Badge>
            )}
          </Group>
          <Group gap="xs">
            <Button
              size="xs"
              variant="default"
              onClick={() => setShowRecords((shown) => !shown)}
              aria-expanded={showRecords}
              data-testid="domain-records-toggle"
            >
              {showRecords ? 'Hide DNS records' : 'DNS records'}
            </Button>
            <Button
              size="xs"
              color="red"
              variant="light"
              onClick={() => setRemoving(true)}
              aria-label={`Remove ${domain.name}`}
              data-testid="domain-remove"
            >
              Remove
            </Button>
          </Group>
        </Group>
        <CatchAllForm key={domain.catchAll ?? ''} domain={domain} onChanged={onChanged} />
        <Switch
          label="Sign outgoing mail with DKIM"
          description={
            domain.dkim
              ? 'Publish the DKIM record (under DNS records) so receivers can check the signature.'
              : 'Off: mail from this domain is sent unsigned, and no DKIM record is needed.'
          }
          checked={domain.dkim}
          disabled={dkim.isPending}
          onChange={(event) => dkim.mutate(event.currentTarget.checked)}
          data-testid="domain-dkim"
        />
        <ErrorNotice error={dkim.error} title="DKIM was not changed" />
        {showRecords && (
          <Stack gap="sm">
            <DomainRecords domain={domain.name} />
            <CheckDomain domain={domain.name} onChecked={onChanged} />
          </Stack>
        )}
        <Text size="xs" c="dimmed">
          Added {new Date(domain.createdAt).toLocaleDateString()}
        </Text>
      </Stack>
      <ConfirmModal
        opened={removing}
        title={`Remove ${domain.name}?`}
        confirmLabel="Remove domain"
        testid="domain-remove-modal"
        onClose={() => setRemoving(false)}
        onConfirm={async () => {
          await domainsApi.remove(domain.name);
          onChanged();
        }}
      >
        The server stops receiving mail for <strong>{domain.name}</strong>.
        {inUse
          ? ` It still has ${usageLabel(domain)}: the server refuses to remove it until they are removed or moved to another domain.`
          : ' Nobody has an address in it.'}
      </ConfirmModal>
    </Card>
  );
}

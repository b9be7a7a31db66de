/** Domains: the mail domains this server receives mail for, one card each, and "Add a domain". */
import { EmptyState, Loader, Stack, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { DOMAINS_KEY, domainsApi } from '../api/domains.ts';
import { SETUP_KEY } from '../api/setup.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { AddDomainForm } from '../components/domains/AddDomainForm.tsx';
import { DomainCard } from '../components/domains/DomainCard.tsx';

export function DomainsPage() {
  const queryClient = useQueryClient();
  const domains = useQuery({ queryKey: DOMAINS_KEY, queryFn: domainsApi.list, refetchOnMount: 'always' });
  // The wizard, the dashboard's checklist and the DNS records all follow the list of domains.
  const changed = () => {
    for (const queryKey of [DOMAINS_KEY, SETUP_KEY, ['dns-records']])
      void queryClient.invalidateQueries({ queryKey });
  };
  return (
    <Stack>
      <div>
        <Title order={2}>Domains</Title>
        <Text c="dimmed" size="sm" maw={720}>
          The domains this server receives mail for. Users and aliases can only have addresses in these
          domains. Each needs DNS records pointing other mail servers here.
        </Text>
      </div>
      <AddDomainForm onAdded={changed} />
      <ErrorNotice error={domains.error} title="The domains could not be loaded" />
      {domains.isPending ? (
        <Loader aria-label="Loading domains" />
      ) : domains.data?.length === 0 ? (
        <EmptyState
          title="No mail domain yet"
          description="Add the domain your addresses end in (for anna@example.org it is example.org)."
          data-testid="domains-empty"
        />
      ) : (
        domains.data?.map((domain) => <DomainCard key={domain.name} domain={domain} onChanged={changed} />)
      )}
    </Stack>
  );
}

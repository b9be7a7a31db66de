/**
 * A user's Filters page: Gmail-like filters, forwarding and the vacation reply, saved as the
 * user's active Sieve script ("mallard-filters"), and the raw Sieve editor. When a script written
 * by hand is active (or the generated one was edited by hand), the page says so and saves only
 * once the user agrees to replace it.
 */
import {
  Alert,
  Anchor,
  Breadcrumbs,
  Checkbox,
  Loader,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import {
  filterKeys,
  filtersApi,
  type FilterSettingsJson,
  type ForwardingJson,
  type UserFiltersJson,
  type VacationJson,
} from '../api/filters.ts';
import { userKeys, usersApi } from '../api/users.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { FiltersCard } from '../components/filters/FiltersCard.tsx';
import { ForwardingCard, VacationCard } from '../components/filters/AwayCards.tsx';
import { RawSieveCard } from '../components/filters/RawSieveCard.tsx';

export function FiltersPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const user = useQuery({ queryKey: userKeys.detail(id), queryFn: () => usersApi.get(id) });
  const filters = useQuery({ queryKey: filterKeys.filters(id), queryFn: () => filtersApi.get(id) });
  const [replace, setReplace] = useState(false);
  const saved = (result: UserFiltersJson) => {
    queryClient.setQueryData(filterKeys.filters(id), result);
    void queryClient.invalidateQueries({ queryKey: filterKeys.scripts(id) });
  };
  const saveFilters = useMutation({
    mutationFn: (settings: FilterSettingsJson) => filtersApi.save(id, settings, replace),
    onSuccess: saved,
  });
  const saveForwarding = useMutation({
    mutationFn: (value: ForwardingJson | null) => filtersApi.setForwarding(id, value, replace),
    onSuccess: saved,
  });
  const saveVacation = useMutation({
    mutationFn: (value: VacationJson | null) => filtersApi.setVacation(id, value, replace),
    onSuccess: saved,
  });

  const username = user.data?.username ?? id;
  const crumbs = (
    <Breadcrumbs>
      <Anchor component={Link} to="/users">
        Users
      </Anchor>
      <Anchor component={Link} to={`/users/${encodeURIComponent(id)}`}>
        {username}
      </Anchor>
      <Text>Filters</Text>
    </Breadcrumbs>
  );
  if (!filters.data) {
    return (
      <Stack>
        {crumbs}
        {filters.isPending ? (
          <Loader aria-label="Loading the filters" />
        ) : (
          <ErrorNotice error={filters.error} />
        )}
      </Stack>
    );
  }
  const { settings, state, activeScript } = filters.data;
  return (
    <Stack>
      {crumbs}
      <Title order={2}>Filters, forwarding and vacation</Title>
      {(state === 'other-script' || state === 'edited') && (
        <Alert
          color="yellow"
          variant="light"
          title={
            state === 'edited' ? 'The filters were edited by hand' : 'A script written by hand is active'
          }
          data-testid="filters-conflict"
        >
          <Stack gap="xs">
            <Text size="sm">
              {state === 'edited'
                ? 'The "mallard-filters" script was changed outside this page (over ManageSieve or the CLI). Saving here replaces those changes; the Sieve script tab shows them.'
                : `The active Sieve script is "${activeScript}", written by hand: the filters below are not in force. Edit it in the Sieve script tab, or replace it by saving here (it stays stored).`}
            </Text>
            <Checkbox
              label="Replace it when I save here"
              checked={replace}
              onChange={(event) => setReplace(event.currentTarget.checked)}
              data-testid="filters-replace"
            />
          </Stack>
        </Alert>
      )}
      <Tabs defaultValue={state === 'other-script' ? 'raw' : 'filters'} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="filters" data-testid="tab-filters">
            Filters
          </Tabs.Tab>
          <Tabs.Tab value="away" data-testid="tab-away">
            Forwarding and vacation
          </Tabs.Tab>
          <Tabs.Tab value="raw" data-testid="tab-raw">
            Sieve script
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="filters" pt="md">
          <Stack>
            <ErrorNotice error={saveFilters.error} title="The filters were not saved" />
            <FiltersCard
              userId={id}
              settings={settings}
              saving={saveFilters.isPending}
              saveError={saveFilters.error}
              onSave={(next) => saveFilters.mutateAsync(next)}
            />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="away" pt="md">
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <ForwardingCard
              forwarding={settings.forwarding}
              saving={saveForwarding.isPending}
              error={saveForwarding.error}
              onSave={(value) => saveForwarding.mutate(value)}
            />
            <VacationCard
              vacation={settings.vacation}
              username={username}
              saving={saveVacation.isPending}
              error={saveVacation.error}
              onSave={(value) => saveVacation.mutate(value)}
            />
          </SimpleGrid>
        </Tabs.Panel>
        <Tabs.Panel value="raw" pt="md">
          <RawSieveCard userId={id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

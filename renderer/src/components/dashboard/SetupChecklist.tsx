/** What is still missing before phones and other servers can use this server, with the way to fix each. */
import { Anchor, Button, Card, Group, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { missingChecks, SETUP_KEY, setupApi } from '../../api/setup.ts';
import { CheckLine } from '../setup/CheckLine.tsx';

export function SetupChecklist() {
  const setup = useQuery({ queryKey: SETUP_KEY, queryFn: setupApi.get, refetchInterval: 60_000 });
  const missing = missingChecks(setup.data);
  if (missing.length === 0) return null;
  return (
    <Card withBorder padding="lg" data-testid="setup-missing">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Still to set up
        </Title>
        <Button component={Link} to="/setup" size="xs" variant="light">
          Open the setup wizard
        </Button>
      </Group>
      <Stack gap="xs">
        {missing.map((check, index) => (
          <Group key={`${check.id}-${index}`} justify="space-between" wrap="nowrap">
            <CheckLine check={check} />
            <Anchor component={Link} to={`/setup?step=${check.step}`} size="sm">
              Fix
            </Anchor>
          </Group>
        ))}
      </Stack>
    </Card>
  );
}

/** One setup check: done (teal) or still to do (orange), with what to do about it. */
import { Badge, Group, Stack, Text } from '@mantine/core';
import type { SetupCheckJson } from '../../api/setup.ts';

export function CheckLine({ check }: { check: SetupCheckJson }) {
  return (
    <Group
      gap="sm"
      align="flex-start"
      wrap="nowrap"
      data-testid="setup-check"
      data-id={check.id}
      data-ok={check.ok}
    >
      <Badge color={check.ok ? 'teal' : 'orange'} variant="light" miw={64}>
        {check.ok ? 'Done' : 'To do'}
      </Badge>
      <Stack gap={0}>
        <Text size="sm" fw={500}>
          {check.title}
        </Text>
        {check.detail && (
          <Text size="xs" c="dimmed">
            {check.detail}
          </Text>
        )}
      </Stack>
    </Group>
  );
}

/** The checks of one wizard step. */
export function StepChecks({ checks, step }: { checks: SetupCheckJson[]; step: number }) {
  const mine = checks.filter((check) => check.step === step);
  if (mine.length === 0) return null;
  return (
    <Stack gap="xs">
      {mine.map((check, index) => (
        <CheckLine key={`${check.id}-${index}`} check={check} />
      ))}
    </Stack>
  );
}

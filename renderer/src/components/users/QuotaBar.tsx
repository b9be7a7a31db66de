/** Storage used against the quota: a bar that turns yellow, then red, as it fills. */
import { Group, Progress, Stack, Text } from '@mantine/core';
import { formatBytes } from '../format.ts';
import { quotaColor, usedPercent } from './quota.ts';

export function QuotaBar({ used, limit, size = 'sm' }: { used: number; limit: number; size?: 'sm' | 'md' }) {
  const percent = usedPercent(used, limit);
  const label =
    percent === null
      ? `${formatBytes(used)} used, no limit`
      : `${formatBytes(used)} of ${formatBytes(limit)} (${Math.round(percent)} %)`;
  return (
    <Stack gap={4} miw={160} data-testid="quota-bar" data-percent={percent ?? ''}>
      <Progress
        value={percent ?? 0}
        color={quotaColor(percent)}
        size={size}
        aria-label={`Storage: ${label}`}
        striped={percent === null}
      />
      <Group justify="space-between" gap="xs">
        <Text size="xs" c="dimmed" data-testid="quota-label">
          {label}
        </Text>
      </Group>
    </Stack>
  );
}

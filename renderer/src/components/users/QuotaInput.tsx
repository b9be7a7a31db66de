/** A quota typed as an amount and a unit (MB/GB); 0 means unlimited. */
import { Group, NativeSelect, NumberInput, Stack, Text } from '@mantine/core';
import { toBytes, type QuotaUnit } from './quota.ts';

export interface QuotaValue {
  amount: number | string;
  unit: QuotaUnit;
}

export function QuotaInput({
  value,
  onChange,
  error,
  testId,
}: {
  value: QuotaValue;
  onChange: (value: QuotaValue) => void;
  error?: string | null;
  testId?: string;
}) {
  return (
    <Stack gap={4}>
      <Group align="flex-start" gap="xs" wrap="nowrap">
        <NumberInput
          label="Quota"
          min={0}
          allowNegative={false}
          decimalScale={2}
          value={value.amount}
          onChange={(amount) => onChange({ ...value, amount })}
          error={error}
          style={{ flex: 1 }}
          data-testid={testId}
        />
        <NativeSelect
          label="Unit"
          data={['MB', 'GB']}
          value={value.unit}
          onChange={(event) => onChange({ ...value, unit: event.currentTarget.value as QuotaUnit })}
          w={90}
          data-testid={testId ? `${testId}-unit` : undefined}
        />
      </Group>
      <Text size="xs" c="dimmed">
        0 means no limit
      </Text>
    </Stack>
  );
}

/** Bytes from the input, or an error message for a person. */
export function quotaFromInput(value: QuotaValue) {
  const amount = typeof value.amount === 'number' ? value.amount : Number(value.amount);
  if (value.amount === '' || !Number.isFinite(amount) || amount < 0) {
    return { bytes: null, error: 'A size of 0 or more' } as const;
  }
  return { bytes: toBytes(amount, value.unit), error: null } as const;
}

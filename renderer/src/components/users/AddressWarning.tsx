/** Under an address field: the warning for an address other servers cannot reach, else `children`. */
import { Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { emailWarning } from '../../api/users.ts';

export function AddressWarning({ address, children }: { address: string; children?: ReactNode }) {
  const warning = emailWarning(address);
  if (!warning) return children ?? null;
  return (
    <Text span size="xs" c="orange.8" data-testid="address-warning">
      {warning}
    </Text>
  );
}

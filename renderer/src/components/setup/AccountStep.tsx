/** Step 3: the first account (more can be added on the Users page at any time). */
import { Button, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { SetupJson } from '../../api/setup.ts';
import { AddUserModal } from '../users/AddUserModal.tsx';

export function AccountStep({ setup, onChanged }: { setup: SetupJson; onChanged: () => void }) {
  const [adding, setAdding] = useState(false);
  const example = setup.domains[0] ? `anna@${setup.domains[0]}` : 'anna@example.org';
  return (
    <Stack gap="sm" align="flex-start">
      <Text size="sm">
        An account is one mailbox with its address ({example}) and password; the password is what a phone or
        mail program logs in with.
      </Text>
      <Button onClick={() => setAdding(true)} data-testid="setup-add-account">
        Add an account
      </Button>
      <AddUserModal
        opened={adding}
        onClose={() => {
          setAdding(false);
          onChanged();
        }}
      />
    </Stack>
  );
}

/**
 * A domain's catch-all: the user's address that receives mail to names nobody has. The server
 * refuses an address no user has (404), shown under the field.
 */
import { Button, Group, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { domainsApi, type DomainJson } from '../../api/domains.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function CatchAllForm({ domain, onChanged }: { domain: DomainJson; onChanged: () => void }) {
  const [target, setTarget] = useState(domain.catchAll ?? '');
  const save = useMutation({
    mutationFn: (catchAll: string | null) => domainsApi.update(domain.name, { catchAll }),
    onSuccess: ({ domain: saved }) => {
      setTarget(saved.catchAll ?? '');
      onChanged();
    },
  });
  const changed = target.trim().toLowerCase() !== (domain.catchAll ?? '');
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate(target.trim() === '' ? null : target.trim());
      }}
    >
      <Group align="flex-end">
        <TextInput
          label="Catch-all"
          description={`Receives mail to any name @${domain.name} that nobody has; empty: such mail is refused`}
          placeholder={`someone@${domain.name}`}
          value={target}
          onChange={(event) => {
            setTarget(event.currentTarget.value);
            save.reset();
          }}
          style={{ flex: 1 }}
          maw={480}
          data-testid="domain-catchall-input"
        />
        <Button
          type="submit"
          variant="light"
          disabled={!changed}
          loading={save.isPending}
          data-testid="domain-catchall-save"
        >
          {target.trim() === '' && domain.catchAll ? 'Clear catch-all' : 'Save'}
        </Button>
      </Group>
      <ErrorNotice error={save.error} title="The catch-all was not changed" />
    </form>
  );
}

/** "Add a domain": checked while typing (the wizard's rules), the server's answer shown below. */
import { Button, Group, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { domainsApi } from '../../api/domains.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { domainProblem } from '../setup/DomainsStep.tsx';

export function AddDomainForm({ onAdded }: { onAdded: () => void }) {
  const [name, setName] = useState('');
  const problem = domainProblem(name);
  const add = useMutation({
    mutationFn: (domain: string) => domainsApi.create(domain),
    onSuccess: () => {
      setName('');
      onAdded();
    },
  });
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (!problem && name.trim() !== '') add.mutate(name.trim().toLowerCase());
      }}
    >
      <Group align="flex-start">
        <TextInput
          label="Add a domain"
          description="The part of the addresses after the @"
          placeholder="example.org"
          value={name}
          onChange={(event) => {
            setName(event.currentTarget.value);
            add.reset();
          }}
          error={problem}
          w={320}
          data-testid="domain-add-input"
        />
        <Button
          type="submit"
          mt={46}
          loading={add.isPending}
          disabled={problem !== null || name.trim() === ''}
          data-testid="domain-add"
        >
          Add domain
        </Button>
      </Group>
      <ErrorNotice error={add.error} title="The domain was not added" />
    </form>
  );
}

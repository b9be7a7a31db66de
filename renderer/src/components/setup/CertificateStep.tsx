/**
 * Step 4: a certificate clients trust — from Let's Encrypt (trusted everywhere, needs the name
 * reachable from the internet or a DNS record), or from the local CA (works offline; each device
 * installs the CA once).
 */
import { Button, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { certificatesApi } from '../../api/certificates.ts';
import type { SetupJson } from '../../api/setup.ts';
import { AcmeCard } from '../certificates/AcmeCard.tsx';
import { CertificateWizard } from '../certificates/CertificateWizard.tsx';

export function CertificateStep({ setup, onChanged }: { setup: SetupJson; onChanged: () => void }) {
  const [localOpen, setLocalOpen] = useState(false);
  const certificates = useQuery({ queryKey: ['certificates'], queryFn: certificatesApi.list });
  const authority = certificates.data?.find((certificate) => certificate.kind === 'ca') ?? null;
  const changed = () => {
    void certificates.refetch();
    onChanged();
  };
  return (
    <Stack gap="sm">
      <Text size="sm">
        Clients check that the certificate covers <b>{setup.hostname}</b>. Let’s Encrypt certificates are
        trusted by every phone without installing anything; a certificate from the local CA works without the
        internet, once each device has installed the CA.
      </Text>
      <AcmeCard onIssued={changed} />
      <Button
        variant="default"
        onClick={() => setLocalOpen(true)}
        data-testid="setup-local-certificate"
        w="fit-content"
      >
        Use the local CA instead
      </Button>
      <CertificateWizard
        opened={localOpen}
        authority={authority}
        onClose={() => setLocalOpen(false)}
        onChanged={changed}
      />
    </Stack>
  );
}

/**
 * Certificates: the list with expiry, the wizard (local CA + server certificate), PEM import,
 * activate, remove with a confirmation naming the certificate, a certificate from Let's Encrypt
 * (or another ACME CA), and the CA download for devices.
 */
import { Alert, Button, EmptyState, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { certificatesApi, type Certificate } from '../api/certificates.ts';
import { useEvents } from '../api/events.ts';
import { AcmeCard } from '../components/certificates/AcmeCard.tsx';
import { AuthorityCard } from '../components/certificates/AuthorityCard.tsx';
import { CertificatesTable } from '../components/certificates/CertificatesTable.tsx';
import { CertificateWizard } from '../components/certificates/CertificateWizard.tsx';
import { certificateName } from '../components/certificates/describe.ts';
import { daysLeft } from '../components/certificates/expiry.ts';
import { ImportModal } from '../components/certificates/ImportModal.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { ConfirmModal } from '../components/rules/ConfirmModal.tsx';

export const CERTIFICATES_KEY = ['certificates'] as const;

export function CertificatesPage() {
  const queryClient = useQueryClient();
  const certificates = useQuery({ queryKey: CERTIFICATES_KEY, queryFn: certificatesApi.list });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: CERTIFICATES_KEY });
  useEvents(refresh, ['certificate.changed']);

  const [wizardOpen, setWizardOpen] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [removing, setRemoving] = useState<Certificate | null>(null);
  const activate = useMutation({
    mutationFn: (certificate: Certificate) => certificatesApi.activate(certificate.id),
    onSuccess: refresh,
  });

  const list = certificates.data ?? [];
  const authority = list.find((certificate) => certificate.kind === 'ca') ?? null;
  const active = list.find((certificate) => certificate.active) ?? null;
  const soon = active && daysLeft(active.notAfter) < 30;

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Certificates</Title>
          <Text c="dimmed" size="sm" maw={720}>
            The TLS certificates IMAP and POP3 clients see. A client asking for a name gets the certificate
            that covers it; every other client gets the active one.
          </Text>
        </div>
        <Group>
          <Button variant="default" onClick={() => setImportOpen(true)} data-testid="certificate-import-open">
            Import PEM
          </Button>
          <Button onClick={() => setWizardOpen(true)} data-testid="certificate-wizard-open">
            New certificate
          </Button>
        </Group>
      </Group>

      {active?.kind === 'self-signed' && (
        <Alert color="yellow" variant="light" title="Clients see a self-signed certificate">
          Mail clients warn about it. Create a certificate signed by a local CA with “New certificate” (and
          install the CA on your devices), or import one from a public CA.
        </Alert>
      )}
      {soon && active && (
        <Alert color="red" variant="light" title="The active certificate expires soon">
          {certificateName(active)} expires in {Math.max(0, daysLeft(active.notAfter))} days. Create or import
          a new one.
        </Alert>
      )}
      {activate.error && <ErrorNotice error={activate.error} title="The certificate was not activated" />}

      {certificates.isPending ? (
        <Loader aria-label="Loading certificates" />
      ) : certificates.error ? (
        <ErrorNotice error={certificates.error} title="The certificates cannot be loaded" />
      ) : list.length === 0 ? (
        <EmptyState
          title="No certificates yet"
          description="The server creates a self-signed one when it first starts TLS. Create a proper one with the wizard."
          data-testid="certificates-empty"
        />
      ) : (
        <CertificatesTable
          certificates={list}
          busyId={activate.isPending ? activate.variables.id : null}
          onActivate={(certificate) => activate.mutate(certificate)}
          onRemove={setRemoving}
        />
      )}

      <AcmeCard onIssued={refresh} />

      {authority && <AuthorityCard authority={authority} />}

      <CertificateWizard
        opened={wizardOpen}
        authority={authority}
        onClose={() => setWizardOpen(false)}
        onChanged={refresh}
      />
      <ImportModal opened={importOpen} onClose={() => setImportOpen(false)} onImported={refresh} />
      <ConfirmModal
        opened={removing !== null}
        title="Remove this certificate?"
        confirmLabel="Remove"
        testid="certificate-remove-modal"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await certificatesApi.remove(removing.id);
          refresh();
        }}
      >
        {removing && (
          <>
            <strong>{certificateName(removing)}</strong> and its private key will be deleted from this server.
            {removing.kind === 'ca' &&
              ' Certificates it signed keep working, but no new ones can be signed by it.'}
          </>
        )}
      </ConfirmModal>
    </Stack>
  );
}

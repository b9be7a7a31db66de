/** Import an existing certificate chain and its private key (pasted, or read from files). */
import { Button, Checkbox, FileButton, Group, Modal, Stack, Textarea } from '@mantine/core';
import { useState } from 'react';
import { certificatesApi } from '../../api/certificates.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export interface ImportModalProps {
  opened: boolean;
  onClose: () => void;
  onImported: () => void;
}

export function ImportModal(props: ImportModalProps) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title="Import a certificate" size="lg">
      {props.opened && <ImportForm {...props} />}
    </Modal>
  );
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

function ImportForm({ onClose, onImported }: ImportModalProps) {
  const [certPem, setCertPem] = useState('');
  const [keyPem, setKeyPem] = useState('');
  const [activate, setActivate] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const certError =
    certPem.trim() && !PEM_CERT.test(certPem)
      ? 'Expected PEM text starting with -----BEGIN CERTIFICATE-----'
      : null;
  const keyError = !keyPem.trim()
    ? null
    : /ENCRYPTED PRIVATE KEY/.test(keyPem)
      ? 'The key is encrypted: export it without a passphrase (openssl pkey -in key.pem -out plain.pem)'
      : PEM_KEY.test(keyPem)
        ? null
        : 'Expected PEM text starting with -----BEGIN PRIVATE KEY-----';

  async function readInto(file: File | null, set: (text: string) => void) {
    if (file) set(await file.text());
  }

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await certificatesApi.import({ certPem, keyPem, activate });
      onImported();
      onClose();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack data-testid="certificate-import">
      <Textarea
        label="Certificate chain (PEM)"
        description="The server certificate first, then its intermediates (fullchain.pem)."
        placeholder="-----BEGIN CERTIFICATE-----"
        autosize
        minRows={4}
        maxRows={10}
        value={certPem}
        onChange={(event) => setCertPem(event.currentTarget.value)}
        error={certError}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
        data-testid="import-cert"
      />
      <FileButton onChange={(file) => void readInto(file, setCertPem)} accept=".pem,.crt,.cer,text/plain">
        {(props) => (
          <Button variant="default" size="xs" w="fit-content" {...props}>
            Read the chain from a file…
          </Button>
        )}
      </FileButton>
      <Textarea
        label="Private key (PEM, not encrypted)"
        placeholder="-----BEGIN PRIVATE KEY-----"
        autosize
        minRows={4}
        maxRows={10}
        value={keyPem}
        onChange={(event) => setKeyPem(event.currentTarget.value)}
        error={keyError}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
        data-testid="import-key"
      />
      <FileButton onChange={(file) => void readInto(file, setKeyPem)} accept=".pem,.key,text/plain">
        {(props) => (
          <Button variant="default" size="xs" w="fit-content" {...props}>
            Read the key from a file…
          </Button>
        )}
      </FileButton>
      <Checkbox
        label="Activate it now"
        checked={activate}
        onChange={(event) => setActivate(event.currentTarget.checked)}
      />
      {error !== null && <ErrorNotice error={error} title="The certificate was not imported" />}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button
          onClick={() => void submit()}
          loading={busy}
          disabled={!certPem.trim() || !keyPem.trim() || certError !== null || keyError !== null}
          data-testid="import-submit"
        >
          Import
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * The certificate wizard: (1) the local CA — created here when there is none; (2) the names and
 * key type of the server certificate, prefilled with the machine's host name and localhost;
 * (3) generating, with progress; (4) "activate now".
 */
import {
  Alert,
  Button,
  Code,
  Group,
  Modal,
  Progress,
  SegmentedControl,
  Stack,
  Stepper,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { certificatesApi, machineHostname, type Certificate, type KeyType } from '../../api/certificates.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatDate } from '../format.ts';
import { nameError } from './expiry.ts';

export interface CertificateWizardProps {
  opened: boolean;
  authority: Certificate | null;
  onClose: () => void;
  onChanged: () => void;
}

export function CertificateWizard(props: CertificateWizardProps) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title="New server certificate" size="xl">
      {props.opened && <Wizard {...props} />}
    </Modal>
  );
}

const KEY_TYPES = [
  { value: 'ecdsa', label: 'ECDSA P-256 (recommended)' },
  { value: 'rsa', label: 'RSA 2048' },
];

function Wizard({ authority, onClose, onChanged }: CertificateWizardProps) {
  const hostname = useQuery({ queryKey: ['machine-hostname'], queryFn: machineHostname, staleTime: 60_000 });
  const [step, setStep] = useState(0);
  const [caName, setCaName] = useState('');
  const [names, setNames] = useState<string[] | null>(null);
  const [keyType, setKeyType] = useState<KeyType>('ecdsa');
  const [phase, setPhase] = useState<'idle' | 'authority' | 'server' | 'activating'>('idle');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Certificate | null>(null);
  const [activated, setActivated] = useState(false);
  const [createdAuthority, setCreatedAuthority] = useState<Certificate | null>(null);

  // Prefilled once the host name is known; the user's edits win after that.
  const defaultNames = [...new Set([hostname.data, 'localhost'].filter((name): name is string => !!name))];
  const currentNames = names ?? defaultNames;
  const nameProblems = currentNames.map(nameError).filter((problem): problem is string => problem !== null);
  const namesError =
    nameProblems[0] ??
    (currentNames.length === 0 && step === 1 ? 'Add at least one host name or IP address' : null);

  async function generate() {
    setError(null);
    try {
      if (!authority && !createdAuthority) {
        setPhase('authority');
        const ca = await certificatesApi.createAuthority({
          keyType,
          ...(caName.trim() ? { commonName: caName.trim() } : {}),
        });
        setCreatedAuthority(ca);
        onChanged();
      }
      setPhase('server');
      const certificate = await certificatesApi.issue({
        names: currentNames.map((name) => name.trim()),
        keyType,
      });
      setCreated(certificate);
      onChanged();
      setStep(3);
    } catch (caught) {
      setError(caught);
    } finally {
      setPhase('idle');
    }
  }

  async function activate() {
    if (!created) return;
    setError(null);
    setPhase('activating');
    try {
      await certificatesApi.activate(created.id);
      setActivated(true);
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setPhase('idle');
    }
  }

  const ca = authority ?? createdAuthority;
  const busy = phase !== 'idle';

  return (
    <Stack data-testid="certificate-wizard">
      <Stepper
        active={step}
        onStepClick={busy || created ? undefined : setStep}
        allowNextStepsSelect={false}
        size="sm"
      >
        <Stepper.Step label="Authority" description={ca ? 'Local CA ready' : 'Create a local CA'}>
          <Stack mt="md" data-testid="wizard-step-authority">
            {ca ? (
              <Alert color="teal" variant="light" title="A local certificate authority exists">
                New certificates are signed by <Code>{ca.subject}</Code>, valid until{' '}
                {formatDate(ca.notAfter)}. Devices that trust it accept every certificate it signs.
              </Alert>
            ) : (
              <>
                <Text size="sm">
                  There is no local certificate authority yet. One is created with the certificate: it signs
                  your server certificates, and phones and computers that install it (download below the list)
                  trust them without warnings. Its key never leaves this machine.
                </Text>
                <TextInput
                  label="Name of the authority (optional)"
                  description="Shown on devices that install it. Default: “Mallard Local CA” and a short code."
                  value={caName}
                  onChange={(event) => setCaName(event.currentTarget.value)}
                  maxLength={64}
                  data-testid="wizard-ca-name"
                />
              </>
            )}
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Names" description="Host names and key">
          <Stack mt="md" data-testid="wizard-step-names">
            <TagsInput
              label="Names the server is reached by"
              description="Host names (mail.example.org) and IP addresses mail clients use. Press Enter after each."
              value={currentNames}
              onChange={setNames}
              error={namesError}
              splitChars={[',', ' ']}
              clearable
              data-testid="wizard-names"
              data-autofocus
            />
            {hostname.isPending && (
              <Text size="xs" c="dimmed">
                Reading this machine’s host name…
              </Text>
            )}
            <Stack gap={4}>
              <Text size="sm" fw={500} id="wizard-key-label">
                Key type
              </Text>
              <SegmentedControl
                aria-labelledby="wizard-key-label"
                data={KEY_TYPES}
                value={keyType}
                onChange={(value) => setKeyType(value as KeyType)}
                data-testid="wizard-key-type"
              />
              <Text size="xs" c="dimmed">
                ECDSA keys are small and fast and every current mail client supports them; choose RSA for very
                old clients.
              </Text>
            </Stack>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Generate" description="Create the certificate">
          <Stack mt="md" data-testid="wizard-step-generate">
            <Text size="sm">
              {ca ? 'The local CA' : 'A new local CA'} will sign a{' '}
              {keyType === 'ecdsa' ? 'ECDSA P-256' : 'RSA 2048'} certificate for{' '}
              <strong>{currentNames.join(', ')}</strong>, ready to serve at once.
            </Text>
            {busy && (
              <Stack gap={4} data-testid="wizard-progress">
                <Progress value={phase === 'authority' ? 40 : 80} animated striped aria-label="Generating" />
                <Text size="sm" c="dimmed">
                  {phase === 'authority'
                    ? 'Creating the local certificate authority…'
                    : 'Generating the key and signing the certificate…'}
                </Text>
              </Stack>
            )}
          </Stack>
        </Stepper.Step>
        <Stepper.Completed>
          {created && (
            <Stack mt="md" data-testid="wizard-done">
              <Alert color="teal" variant="light" title="Certificate created">
                For <strong>{created.names.join(', ')}</strong>, valid until {formatDate(created.notAfter)}.
                <Text
                  size="xs"
                  mt={4}
                  ff="monospace"
                  style={{ wordBreak: 'break-all' }}
                  data-testid="wizard-fingerprint"
                >
                  SHA-256 {created.fingerprint}
                </Text>
              </Alert>
              {activated ? (
                <Alert color="blue" variant="light" title="Active" data-testid="wizard-activated">
                  New connections get this certificate now. Open connections keep the one they started with.
                </Alert>
              ) : (
                <Text size="sm">
                  Clients asking for one of its names already get it. Activate it to serve it to every client,
                  also those that ask for no name.
                </Text>
              )}
            </Stack>
          )}
        </Stepper.Completed>
      </Stepper>

      {error !== null && <ErrorNotice error={error} title="The certificate was not created" />}

      <Group justify="space-between">
        <Button variant="default" onClick={onClose} disabled={busy}>
          {created ? 'Close' : 'Cancel'}
        </Button>
        <Group>
          {step > 0 && step < 3 && (
            <Button variant="default" onClick={() => setStep(step - 1)} disabled={busy}>
              Back
            </Button>
          )}
          {step < 2 && (
            <Button
              onClick={() => setStep(step + 1)}
              disabled={step === 1 && (currentNames.length === 0 || nameProblems.length > 0)}
              data-testid="wizard-next"
            >
              Next
            </Button>
          )}
          {step === 2 && (
            <Button onClick={() => void generate()} loading={busy} data-testid="wizard-generate">
              Create certificate
            </Button>
          )}
          {step === 3 && created && !activated && (
            <Button
              onClick={() => void activate()}
              loading={phase === 'activating'}
              data-testid="wizard-activate"
            >
              Activate now
            </Button>
          )}
        </Group>
      </Group>
    </Stack>
  );
}

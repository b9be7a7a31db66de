/**
 * The first-run wizard: mail domains, the public name, the first account, a certificate and the
 * DNS records — each step skippable and revisitable (click a step), with what is still missing
 * shown under it. Opened by itself on a new install; the dashboard links back here.
 */
import { Button, Group, Loader, Stack, Stepper, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { SETUP_KEY, setupApi } from '../api/setup.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { AccountStep } from '../components/setup/AccountStep.tsx';
import { StepChecks } from '../components/setup/CheckLine.tsx';
import { CertificateStep } from '../components/setup/CertificateStep.tsx';
import { DnsStep } from '../components/setup/DnsStep.tsx';
import { DomainsStep } from '../components/setup/DomainsStep.tsx';
import { PublicNameStep } from '../components/setup/PublicNameStep.tsx';
import { deferSetup } from '../components/setup/firstRun.ts';

const STEPS = [
  { label: 'Domains', Body: DomainsStep },
  { label: 'Public name', Body: PublicNameStep },
  { label: 'First account', Body: AccountStep },
  { label: 'Certificate', Body: CertificateStep },
  { label: 'DNS records', Body: DnsStep },
];

export function SetupPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [searchParams] = useSearchParams();
  const [active, setActive] = useState(() =>
    Math.min(Number(searchParams.get('step') ?? 0) || 0, STEPS.length - 1),
  );
  const [finishing, setFinishing] = useState(false);
  const [finishError, setFinishError] = useState<unknown>(null);
  const setup = useQuery({ queryKey: SETUP_KEY, queryFn: setupApi.get });
  const refresh = useCallback(
    () => void queryClient.invalidateQueries({ queryKey: SETUP_KEY }),
    [queryClient],
  );

  const finish = async () => {
    setFinishing(true);
    try {
      queryClient.setQueryData(SETUP_KEY, await setupApi.setCompleted(true));
      void navigate('/');
    } catch (error) {
      setFinishError(error);
    } finally {
      setFinishing(false);
    }
  };

  if (setup.isPending) return <Loader aria-label="Loading the setup" />;
  if (!setup.data) return <ErrorNotice error={setup.error} title="The setup cannot be loaded" />;
  const last = active === STEPS.length - 1;
  return (
    <Stack gap="lg" maw={960}>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Set up your mail server</Title>
          <Text c="dimmed" size="sm">
            Every step can be skipped and done later; the dashboard lists what is still missing.
          </Text>
        </div>
        <Button
          variant="subtle"
          onClick={() => {
            deferSetup();
            void navigate('/');
          }}
          data-testid="setup-later"
        >
          Finish later
        </Button>
      </Group>
      <Stepper active={active} onStepClick={setActive} allowNextStepsSelect data-testid="setup-stepper">
        {STEPS.map(({ label, Body }, index) => (
          <Stepper.Step key={label} label={label}>
            <Stack gap="md" data-testid={`setup-step-${index}`}>
              <StepChecks checks={setup.data.checks} step={index} />
              <Body setup={setup.data} onChanged={refresh} />
            </Stack>
          </Stepper.Step>
        ))}
      </Stepper>
      <ErrorNotice error={finishError} title="The setup could not be saved" />
      <Group justify="space-between">
        <Button variant="default" disabled={active === 0} onClick={() => setActive(active - 1)}>
          Back
        </Button>
        {last ? (
          <Button onClick={() => void finish()} loading={finishing} data-testid="setup-finish">
            Finish
          </Button>
        ) : (
          <Button onClick={() => setActive(active + 1)} data-testid="setup-next">
            Next
          </Button>
        )}
      </Group>
    </Stack>
  );
}

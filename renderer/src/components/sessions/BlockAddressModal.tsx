/**
 * "Block this address": a deny rule for the session's IP (/32 or /128) at the top of the rules,
 * with a note saying where it came from; then the offer to kick the session (a rule only stops new
 * connections).
 */
import { Button, Checkbox, Code, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { rulesApi } from '../../api/rules.ts';
import type { Session } from '../../api/sessions.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { hostRange } from '../rules/cidr.ts';
import { sessionName } from './describe.ts';

export interface BlockAddressModalProps {
  session: Session | null;
  /** Other live sessions from the same address, kicked too when asked. */
  sameAddress: Session[];
  onClose: () => void;
  onBlocked: () => void;
  onKick: (sessions: Session[]) => Promise<void>;
}

export function BlockAddressModal(props: BlockAddressModalProps) {
  return (
    <Modal opened={props.session !== null} onClose={props.onClose} title="Block this address" size="lg">
      {props.session && <BlockAddress {...props} session={props.session} />}
    </Modal>
  );
}

function BlockAddress({
  session,
  sameAddress,
  onClose,
  onBlocked,
  onKick,
}: BlockAddressModalProps & { session: Session }) {
  const range = hostRange(session.remoteAddress);
  const [note, setNote] = useState(
    `Blocked from the Sessions page (${session.user ?? 'no login'}, ${new Date().toLocaleString()})`,
  );
  const [allProtocols, setAllProtocols] = useState(true);
  const [step, setStep] = useState<'confirm' | 'kick'>('confirm');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function block() {
    if (!range) return;
    setBusy(true);
    setError(null);
    try {
      await rulesApi.create({
        kind: 'deny',
        cidrs: [range],
        protocols: allProtocols ? [] : [session.protocol],
        note,
        position: 1,
      });
      onBlocked();
      // Nothing left to kick when the client has gone meanwhile.
      if (sameAddress.length === 0) onClose();
      else setStep('kick');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function kick() {
    setBusy(true);
    setError(null);
    try {
      await onKick(sameAddress);
      onClose();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (!range) {
    return <Text>{session.remoteAddress} is not an IP address, so it cannot be blocked by a rule.</Text>;
  }

  if (step === 'kick') {
    return (
      <Stack data-testid="block-kick-step">
        <Text>
          New connections from <Code>{range}</Code> are now refused. Connections already open stay until they
          close.
        </Text>
        <Text>
          Kick{' '}
          {sameAddress.length === 1 ? 'this session' : `the ${sameAddress.length} sessions from this address`}{' '}
          now?
        </Text>
        {error !== null && <ErrorNotice error={error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Not now
          </Button>
          <Button
            color="red"
            loading={busy}
            onClick={() => void kick()}
            data-testid="block-kick-confirm"
            data-autofocus
          >
            Kick {sameAddress.length === 1 ? 'it' : `all ${sameAddress.length}`}
          </Button>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack data-testid="block-confirm-step">
      <Text>
        A deny rule for <Code data-testid="block-range">{range}</Code> goes to the top of the connection
        rules, so the {sessionName(session)} cannot connect again.
      </Text>
      <Checkbox
        label="Refuse every protocol from this address"
        description={allProtocols ? undefined : `Only ${session.protocol.toUpperCase()} is refused.`}
        checked={allProtocols}
        onChange={(event) => setAllProtocols(event.currentTarget.checked)}
      />
      <TextInput
        label="Note on the rule"
        value={note}
        onChange={(event) => setNote(event.currentTarget.value)}
        maxLength={1000}
      />
      {error !== null && <ErrorNotice error={error} title="The rule was not created" />}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button
          color="red"
          loading={busy}
          onClick={() => void block()}
          data-testid="block-confirm"
          data-autofocus
        >
          Block {range}
        </Button>
      </Group>
    </Stack>
  );
}

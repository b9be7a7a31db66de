/**
 * Forwarding and the vacation reply: no Sieve to write. The vacation card previews the reply as
 * senders will get it, and says on which days and how often it goes out.
 */
import {
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NumberInput,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { ForwardingJson, VacationJson } from '../../api/filters.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function ForwardingCard({
  forwarding,
  saving,
  error,
  onSave,
}: {
  forwarding: ForwardingJson | null;
  saving: boolean;
  error: unknown;
  onSave: (forwarding: ForwardingJson | null) => void;
}) {
  const [address, setAddress] = useState(forwarding?.address ?? '');
  const [keepCopy, setKeepCopy] = useState(forwarding?.keepCopy ?? true);

  function submit(event: FormEvent) {
    event.preventDefault();
    onSave({ address: address.trim(), keepCopy });
  }

  return (
    <Card withBorder>
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={3} size="h4">
            Forwarding
          </Title>
          <Text size="sm" c={forwarding ? undefined : 'dimmed'} data-testid="forwarding-state">
            {forwarding
              ? `All mail is forwarded to ${forwarding.address}${forwarding.keepCopy ? ', and a copy kept here.' : '; no copy is kept here.'}`
              : 'Off: mail stays here.'}
          </Text>
          <TextInput
            label="Forward all mail to"
            placeholder="me@elsewhere.example"
            value={address}
            onChange={(event) => setAddress(event.currentTarget.value)}
            data-testid="forwarding-address"
          />
          <Checkbox
            label="Keep a copy here"
            checked={keepCopy}
            onChange={(event) => setKeepCopy(event.currentTarget.checked)}
            data-testid="forwarding-keep"
          />
          <ErrorNotice error={error} title="Forwarding was not saved" />
          <SaveButtons
            testId="forwarding"
            label="Save forwarding"
            isOn={forwarding !== null}
            saving={saving}
            onOff={() => onSave(null)}
          />
        </Stack>
      </form>
    </Card>
  );
}

/** Save, and Turn off while the setting is on: what both cards end with. */
function SaveButtons(props: {
  testId: string;
  label: string;
  isOn: boolean;
  saving: boolean;
  onOff: () => void;
}) {
  return (
    <Group>
      <Button type="submit" loading={props.saving} data-testid={`${props.testId}-save`}>
        {props.label}
      </Button>
      {props.isOn && (
        <Button
          variant="default"
          onClick={props.onOff}
          disabled={props.saving}
          data-testid={`${props.testId}-off`}
        >
          Turn off
        </Button>
      )}
    </Group>
  );
}

function period(vacation: { from?: string; until?: string }): string {
  if (vacation.from && vacation.until) return `from ${vacation.from} to ${vacation.until}`;
  if (vacation.from) return `from ${vacation.from} on`;
  if (vacation.until) return `until ${vacation.until}`;
  return 'from now on';
}

export function VacationCard({
  vacation,
  username,
  saving,
  error,
  onSave,
}: {
  vacation: VacationJson | null;
  username: string;
  saving: boolean;
  error: unknown;
  onSave: (vacation: VacationJson | null) => void;
}) {
  const [subject, setSubject] = useState(vacation?.subject ?? 'Out of office');
  const [body, setBody] = useState(vacation?.body ?? '');
  const [from, setFrom] = useState(vacation?.from ?? '');
  const [until, setUntil] = useState(vacation?.until ?? '');
  const [days, setDays] = useState<number | string>(vacation?.days ?? 7);
  const [addresses, setAddresses] = useState((vacation?.addresses ?? []).join(', '));
  const draft = {
    subject: subject.trim(),
    body: body.trim(),
    ...(from ? { from } : {}),
    ...(until ? { until } : {}),
    days: Number(days) || 7,
    addresses: addresses.split(/[\s,;]+/).filter((address) => address !== ''),
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    onSave(draft);
  }

  return (
    <Card withBorder>
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={3} size="h4">
            Vacation reply
          </Title>
          <Text size="sm" c={vacation ? undefined : 'dimmed'} data-testid="vacation-state">
            {vacation
              ? `On, ${period(vacation)}: each sender gets the reply at most once every ${vacation.days} days.`
              : 'Off.'}
          </Text>
          <TextInput
            label="Subject"
            value={subject}
            onChange={(event) => setSubject(event.currentTarget.value)}
            data-testid="vacation-subject"
          />
          <Textarea
            label="Message"
            autosize
            minRows={3}
            value={body}
            onChange={(event) => setBody(event.currentTarget.value)}
            data-testid="vacation-body"
          />
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput
              type="date"
              label="First day"
              value={from}
              onChange={(event) => setFrom(event.currentTarget.value)}
              data-testid="vacation-from"
            />
            <TextInput
              type="date"
              label="Last day"
              value={until}
              onChange={(event) => setUntil(event.currentTarget.value)}
              data-testid="vacation-until"
            />
            <NumberInput
              label="Answer a sender again after (days)"
              min={1}
              max={365}
              value={days}
              onChange={setDays}
              data-testid="vacation-days"
            />
          </SimpleGrid>
          <TextInput
            label="Other addresses of yours"
            description="Mail sent to these (an alias, an old address) is answered too; separate them with commas"
            placeholder="me@old-provider.example"
            value={addresses}
            onChange={(event) => setAddresses(event.currentTarget.value)}
            data-testid="vacation-addresses"
          />
          <Stack gap={4}>
            <Text size="sm" fw={600}>
              Preview ({period(draft)}; never to mailing lists or automatic mail)
            </Text>
            <Code block data-testid="vacation-preview">
              {`From: ${username}\nSubject: ${draft.subject || '(no subject)'}\nAuto-Submitted: auto-replied (vacation)\n\n${draft.body || '(no message)'}`}
            </Code>
          </Stack>
          <ErrorNotice error={error} title="The vacation reply was not saved" />
          <SaveButtons
            testId="vacation"
            label="Save the vacation reply"
            isOn={vacation !== null}
            saving={saving}
            onOff={() => onSave(null)}
          />
        </Stack>
      </form>
    </Card>
  );
}

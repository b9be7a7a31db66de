/** "Test an address": which rule would decide a connection (and a login) from an address, and why. */
import {
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  rulesApi,
  RULE_PROTOCOLS,
  type Rule,
  type RuleDecision,
  type RuleProtocol,
} from '../../api/rules.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { isIpAddress } from './cidr.ts';
import { ruleName } from './kinds.ts';

export function RuleTester({ rules }: { rules: Rule[] }) {
  const [address, setAddress] = useState('');
  const [protocol, setProtocol] = useState<RuleProtocol>('imap');
  const [username, setUsername] = useState('');
  const [secure, setSecure] = useState(false);
  const [touched, setTouched] = useState(false);
  const test = useMutation({ mutationFn: rulesApi.test });

  const addressError =
    address.trim() === ''
      ? touched
        ? 'Enter an IPv4 or IPv6 address'
        : null
      : isIpAddress(address)
        ? null
        : 'Not an IPv4 or IPv6 address (one address, no range)';

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    // A result on screen always belongs to the address in the field: an invalid one shows none.
    if (address.trim() === '' || !isIpAddress(address)) return test.reset();
    test.mutate({
      address: address.trim(),
      protocol,
      secure,
      ...(username.trim() ? { username: username.trim() } : {}),
    });
  }

  return (
    <Card withBorder padding="lg" data-testid="rule-tester">
      <Title order={3} size="h4" mb="xs">
        Test an address
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        What the rules would decide now for a new connection from an address, and for a login on it. Nothing
        is recorded and no counter changes.
      </Text>
      <form onSubmit={submit} noValidate>
        <Group align="flex-start" wrap="wrap">
          <TextInput
            label="IP address"
            placeholder="203.0.113.7 or 2001:db8::7"
            value={address}
            onChange={(event) => {
              setAddress(event.currentTarget.value);
              test.reset();
            }}
            onBlur={() => setTouched(true)}
            error={addressError}
            data-testid="rule-test-address"
            w={240}
          />
          <Select
            label="Protocol"
            data={RULE_PROTOCOLS.map((value) => ({ value, label: value.toUpperCase() }))}
            value={protocol}
            onChange={(value) => value && setProtocol(value as RuleProtocol)}
            allowDeselect={false}
            data-testid="rule-test-protocol"
            w={120}
          />
          <TextInput
            label="Username (optional)"
            placeholder="alice@example.com"
            value={username}
            onChange={(event) => setUsername(event.currentTarget.value)}
            description="Lockout rules count per account too"
            w={240}
          />
          <Checkbox
            label="With TLS"
            checked={secure}
            onChange={(event) => setSecure(event.currentTarget.checked)}
            mt={32}
          />
          <Button type="submit" mt={25} loading={test.isPending} data-testid="rule-test-submit">
            Test
          </Button>
        </Group>
      </form>
      {test.error && (
        <Stack mt="md">
          <ErrorNotice error={test.error} />
        </Stack>
      )}
      {test.data && (
        <SimpleGrid cols={{ base: 1, sm: 2 }} mt="md" data-testid="rule-test-result">
          <Verdict phase="Connecting" decision={test.data.connect} rules={rules} testid="rule-test-connect" />
          <Verdict
            phase={username.trim() ? `Logging in as ${username.trim()}` : 'Logging in'}
            decision={test.data.auth}
            rules={rules}
            testid="rule-test-auth"
          />
        </SimpleGrid>
      )}
    </Card>
  );
}

function Verdict({
  phase,
  decision,
  rules,
  testid,
}: {
  phase: string;
  decision: RuleDecision;
  rules: Rule[];
  testid: string;
}) {
  const rule = decision.ruleId ? rules.find((candidate) => candidate.id === decision.ruleId) : undefined;
  return (
    <Card withBorder padding="md" data-testid={testid}>
      <Group justify="space-between" mb="xs">
        <Text fw={600}>{phase}</Text>
        <Badge color={decision.allow ? 'teal' : 'red'} variant="light" size="lg">
          {decision.allow ? 'Allowed' : 'Refused'}
        </Badge>
      </Group>
      <Text size="sm" data-testid={`${testid}-rule`}>
        {decision.ruleId
          ? `Decided by rule ${rule ? ruleName(rule) : decision.ruleId}.`
          : 'No rule decides: allowed by default.'}
      </Text>
      {decision.reason && (
        <Text size="sm" c="dimmed" mt={4}>
          The client is told: “{decision.reason}”
        </Text>
      )}
      {decision.error && (
        <Text size="sm" c="red" mt={4}>
          The rule failed: {decision.error}
        </Text>
      )}
    </Card>
  );
}

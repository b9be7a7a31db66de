/**
 * Spam filtering on the Settings page: rspamd's URLs with a "Detect" button that finds it on this
 * machine and says its version and thresholds, Mallard's own thresholds, greylisting and the DNS
 * blocklists. Saved on its own and in force at once (every worker checks the next message with
 * it): no restart, unlike the settings above.
 */
import {
  Alert,
  Button,
  Card,
  Group,
  NumberInput,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { spamApi, type SpamSettings } from '../../api/spam.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

const URL_PATTERN = /^(https?:\/\/\S+)?$/;
const ZONE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i;

/** The blocklists as typed: one zone a line (commas work too). */
const zonesOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((zone) => zone.trim())
    .filter(Boolean);

function problems(values: SpamSettings, zones: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  if (!URL_PATTERN.test(values.rspamd_url.trim())) found.rspamd_url = 'An http:// or https:// URL, or empty';
  if (!URL_PATTERN.test(values.rspamd_controller_url.trim()))
    found.rspamd_controller_url = 'An http:// or https:// URL, or empty';
  if (!(values.reject_score > values.junk_score))
    found.reject_score = 'Higher than the Junk score, or nothing would ever go to Junk';
  const bad = zones.find((zone) => !ZONE.test(zone));
  if (bad) found.dnsbl = `"${bad}" is not a DNS zone such as zen.spamhaus.org`;
  return found;
}

export function SpamSection({ inForce }: { inForce: SpamSettings }) {
  const queryClient = useQueryClient();
  const [values, setValues] = useState<SpamSettings>(inForce);
  const [zonesText, setZonesText] = useState(inForce.dnsbl.join('\n'));
  const [saved, setSaved] = useState(false);
  const zones = zonesOf(zonesText);
  const errors = problems(values, zones);
  const set = <K extends keyof SpamSettings>(key: K, value: SpamSettings[K]) => {
    setSaved(false);
    setValues((current) => ({ ...current, [key]: value }));
  };

  const detect = useMutation({
    mutationFn: () =>
      spamApi.detect({ url: values.rspamd_url.trim(), controllerUrl: values.rspamd_controller_url.trim() }),
    onSuccess: (found) => {
      if (found.scanUrl) set('rspamd_url', found.scanUrl);
      if (found.controllerUrl) set('rspamd_controller_url', found.controllerUrl);
    },
  });
  const save = useMutation({
    mutationFn: () =>
      spamApi.save({
        enabled: values.enabled,
        rspamd_url: values.rspamd_url.trim(),
        rspamd_controller_url: values.rspamd_controller_url.trim(),
        junk_score: values.junk_score,
        reject_score: values.reject_score,
        greylisting: values.greylisting,
        greylist_delay: values.greylist_delay,
        dnsbl: zones,
      }),
    onSuccess: async () => {
      setSaved(true);
      await queryClient.invalidateQueries({ queryKey: ['settings'] });
    },
  });
  const serverIssues = save.error instanceof ApiError ? save.error.issues : [];
  const found = detect.data;

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="spam-title" data-testid="spam-section">
      <Title order={3} size="h4" mb="xs" id="spam-title">
        Spam filtering
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Checks every message arriving on port 25. With rspamd, it scores the messages; without it, Mallard
        scores them itself (sender authentication, GTUBE, the blocklists below). Changes apply at once, no
        restart.
      </Text>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (Object.keys(errors).length === 0) save.mutate();
        }}
      >
        <Stack gap="md" maw={640}>
          <Switch
            label="Spam filtering on"
            checked={values.enabled}
            onChange={(event) => set('enabled', event.currentTarget.checked)}
            data-testid="spam-enabled"
          />
          <Group align="flex-end" wrap="nowrap">
            <TextInput
              label="rspamd URL"
              description="Its scanning worker; empty: Mallard's own checks. Detect looks on this machine."
              placeholder="http://127.0.0.1:11333"
              value={values.rspamd_url}
              onChange={(event) => set('rspamd_url', event.currentTarget.value)}
              error={errors.rspamd_url}
              spellCheck={false}
              style={{ flex: 1 }}
              data-testid="spam-rspamd-url"
            />
            <Button
              variant="default"
              onClick={() => detect.mutate()}
              loading={detect.isPending}
              data-testid="spam-detect"
            >
              Detect
            </Button>
          </Group>
          {found && (
            <Alert color={found.found ? 'green' : 'yellow'} data-testid="spam-detect-result">
              {found.detail}
              {Object.keys(found.actions).length > 0 &&
                `. rspamd's own thresholds: ${Object.entries(found.actions)
                  .map(([action, value]) => `${action} at ${value}`)
                  .join(', ')}.`}
            </Alert>
          )}
          {detect.error && <ErrorNotice error={detect.error} title="The probe failed" />}
          <TextInput
            label="rspamd controller URL"
            description="For learning: messages users move into or out of Junk teach rspamd."
            placeholder="http://127.0.0.1:11334"
            value={values.rspamd_controller_url}
            onChange={(event) => set('rspamd_controller_url', event.currentTarget.value)}
            error={errors.rspamd_controller_url}
            spellCheck={false}
            data-testid="spam-rspamd-controller-url"
          />
          <Group grow>
            <NumberInput
              label="Junk from score"
              value={values.junk_score}
              onChange={(value) => set('junk_score', Number(value))}
              decimalScale={2}
              data-testid="spam-junk-score"
            />
            <NumberInput
              label="Refuse from score"
              description="550 5.7.1 at the end of DATA"
              value={values.reject_score}
              onChange={(value) => set('reject_score', Number(value))}
              error={errors.reject_score}
              decimalScale={2}
              data-testid="spam-reject-score"
            />
          </Group>
          <Group align="flex-end">
            <Switch
              label="Greylisting of unknown senders"
              checked={values.greylisting}
              onChange={(event) => set('greylisting', event.currentTarget.checked)}
              data-testid="spam-greylisting"
            />
            <NumberInput
              label="Retry after (seconds)"
              value={values.greylist_delay}
              min={0}
              max={86400}
              onChange={(value) => set('greylist_delay', Number(value))}
              disabled={!values.greylisting}
              w={200}
              data-testid="spam-greylist-delay"
            />
          </Group>
          <Textarea
            label="DNS blocklists"
            description="One zone a line, e.g. zen.spamhaus.org; asked about each connecting address by the own checks."
            value={zonesText}
            onChange={(event) => {
              setSaved(false);
              setZonesText(event.currentTarget.value);
            }}
            error={errors.dnsbl}
            autosize
            minRows={2}
            spellCheck={false}
            data-testid="spam-dnsbl"
          />
          {serverIssues.length > 0 && (
            <Alert color="red" title="Not saved">
              {serverIssues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}
            </Alert>
          )}
          {save.error && serverIssues.length === 0 && <ErrorNotice error={save.error} title="Not saved" />}
          {saved && (
            <Alert color="green" data-testid="spam-saved">
              Saved and in force: the next message is checked with these settings.
            </Alert>
          )}
          <Group>
            <Button
              type="submit"
              loading={save.isPending}
              disabled={Object.keys(errors).length > 0}
              data-testid="spam-save"
            >
              Save spam filtering
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

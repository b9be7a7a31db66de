/** The store engine: embedded (SQLite) or MongoDB by URI, with "Test connection" before saving. */
import { Alert, Button, Card, Group, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { settingsApi } from '../../api/settings.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { MoveToMongo } from '../migration/MoveToMongo.tsx';

/** The driver's words for common failures, said as a person would; the original stays below. */
export function explainConnectionFailure(detail: string): string | null {
  const refused = /ECONNREFUSED\s+(\S+)/.exec(detail);
  if (refused)
    return `Nothing answered at ${refused[1]}: the connection was refused. Is MongoDB running there, on that port?`;
  const unknown = /ENOTFOUND\s+(\S+)/.exec(detail);
  if (unknown) return `The host name ${unknown[1]} could not be found. Check the spelling.`;
  if (/timed? ?out|ETIMEDOUT|Server selection/i.test(detail))
    return 'No answer in time. The address may be wrong, or a firewall drops the connection.';
  if (/auth/i.test(detail)) return 'MongoDB refused the user name or password in the URI.';
  return null;
}

export function StoreSection({
  engine,
  uri,
  uriError,
  engineError,
  localMongod,
  inForceEngine,
  onEngine,
  onUri,
}: {
  engine: string;
  uri: string;
  uriError?: string;
  engineError?: string;
  localMongod: boolean;
  /** The engine the running server uses: mail on the embedded store can be moved to MongoDB. */
  inForceEngine: string;
  onEngine: (engine: 'sqlite' | 'mongodb') => void;
  onUri: (uri: string) => void;
}) {
  const test = useMutation({ mutationFn: (value: string) => settingsApi.testConnection(value) });
  const canTest = uri.trim() !== '' && !uriError;

  return (
    <Card withBorder padding="lg">
      <Title order={3} size="h4" mb="xs">
        Storage
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Where mail and accounts are kept. Saving another engine starts the server on that store as it is; to
        take your mail along, use “Move my mail to MongoDB” below (or <code>mallard db migrate</code>).
      </Text>
      <Stack gap="sm">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="store-engine-label">
            Engine
          </Text>
          <SegmentedControl
            aria-labelledby="store-engine-label"
            value={engine}
            onChange={(value) => {
              test.reset();
              onEngine(value === 'mongodb' ? 'mongodb' : 'sqlite');
            }}
            data={[
              { value: 'sqlite', label: 'Embedded (SQLite)' },
              { value: 'mongodb', label: 'MongoDB' },
            ]}
            data-testid="store-engine"
            w="fit-content"
          />
          {engineError && (
            <Text size="xs" c="red">
              {engineError}
            </Text>
          )}
        </Stack>
        {engine === 'mongodb' && (
          <>
            <TextInput
              label="MongoDB URI"
              description={
                localMongod
                  ? 'Leave empty to use the local replica set the panel runs.'
                  : 'A replica set keeps mail safe when one database machine fails, e.g. mongodb://host:27017/mallard?replicaSet=rs0'
              }
              placeholder="mongodb://mail-db.example:27017/mallard?replicaSet=rs0"
              value={uri}
              onChange={(event) => {
                test.reset();
                onUri(event.currentTarget.value);
              }}
              error={uriError}
              spellCheck={false}
              autoComplete="off"
              data-testid="store-uri"
            />
            <Group gap="sm">
              <Button
                variant="default"
                onClick={() => test.mutate(uri.trim())}
                loading={test.isPending}
                disabled={!canTest}
                data-testid="test-connection"
              >
                Test connection
              </Button>
              {!canTest && (
                <Text size="xs" c="dimmed">
                  Enter a valid URI to test it.
                </Text>
              )}
            </Group>
            {test.data && (
              <Alert
                color={test.data.ok ? 'teal' : 'red'}
                variant="light"
                title={test.data.ok ? 'Connected' : 'Could not connect'}
                role={test.data.ok ? 'status' : 'alert'}
                data-testid="test-connection-result"
                data-ok={String(test.data.ok)}
              >
                {test.data.ok ? (
                  test.data.detail.charAt(0).toUpperCase() + test.data.detail.slice(1)
                ) : (
                  <>
                    {explainConnectionFailure(test.data.detail) ?? test.data.detail}
                    {explainConnectionFailure(test.data.detail) && (
                      <Text size="xs" c="dimmed" mt={4} ff="monospace">
                        {test.data.detail}
                      </Text>
                    )}
                  </>
                )}
              </Alert>
            )}
            {test.error && <ErrorNotice error={test.error} title="The connection could not be tested" />}
            {inForceEngine === 'sqlite' && <MoveToMongo uri={uri} uriValid={canTest} />}
          </>
        )}
      </Stack>
    </Card>
  );
}

/** The local CA for phones and desktops to trust, with how to install it. */
import { Button, Card, Group, List, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { devicesApi } from '../../api/devices.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { saveFile } from './download.ts';

export function CaDownload({ hostname, available }: { hostname: string; available: boolean }) {
  const download = useMutation({
    mutationFn: async (format: 'pem' | 'der') => {
      const bytes = format === 'pem' ? await devicesApi.authorityPem() : await devicesApi.authorityDer();
      const base = `${hostname.replace(/[^A-Za-z0-9.-]+/g, '_')}-ca`;
      if (format === 'pem') saveFile(bytes, `${base}.pem`, 'application/x-pem-file');
      else saveFile(bytes, `${base}.crt`, 'application/x-x509-ca-cert');
    },
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          The server's certificate authority
        </Title>
        {available ? (
          <>
            <Text size="sm">
              The server's certificate is signed by its own local CA. Devices trust it once the CA is
              installed:
            </Text>
            <List size="sm" spacing={4}>
              <List.Item>
                iPhone/iPad: open the .crt (or the profile above), install it in Settings → Profile
                Downloaded, then turn it on in Settings → General → About → Certificate Trust Settings.
              </List.Item>
              <List.Item>
                Android: Settings → Security → Encryption &amp; credentials → Install a certificate → CA
                certificate, and pick the .crt.
              </List.Item>
              <List.Item>Desktops and openssl: use the .pem.</List.Item>
            </List>
            <Group>
              <Button
                variant="light"
                onClick={() => download.mutate('der')}
                loading={download.isPending && download.variables === 'der'}
                data-testid="download-ca-der"
              >
                Download for phones (.crt, DER)
              </Button>
              <Button
                variant="default"
                onClick={() => download.mutate('pem')}
                loading={download.isPending && download.variables === 'pem'}
                data-testid="download-ca-pem"
              >
                Download PEM
              </Button>
            </Group>
            <ErrorNotice error={download.error} title="The CA could not be downloaded" />
          </>
        ) : (
          <Text size="sm" c="dimmed" data-testid="no-local-ca">
            There is no local CA: the server uses a certificate from elsewhere (or a self-signed one, which
            devices will warn about). Create a local CA and a server certificate on the Certificates page to
            hand out a CA phones can trust.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

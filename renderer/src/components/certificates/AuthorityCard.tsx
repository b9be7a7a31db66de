/**
 * The local CA for devices to trust: one download per format (DER .crt for phones, PEM .pem for
 * computers), its fingerprint and one how-to per platform. The Certificates and Connect a device
 * pages both show this card.
 */
import { Accordion, Anchor, Button, Card, Code, Group, List, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { AUTHORITY_DER_URL, AUTHORITY_PEM_URL, type Certificate } from '../../api/certificates.ts';
import { formatDate } from '../format.ts';

export function AuthorityCard({ authority }: { authority: Certificate }) {
  return (
    <Card withBorder padding="lg" data-testid="authority-card">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={3} size="h4">
              Trust the local CA on phones and computers
            </Title>
            <Text size="sm" c="dimmed">
              <Code>{authority.subject}</Code>, valid until {formatDate(authority.notAfter)}. Install it once
              on each device; then every certificate it signs is trusted.
            </Text>
          </div>
          <Group gap="xs">
            <Button
              component="a"
              href={AUTHORITY_DER_URL}
              download="mallard-ca.crt"
              data-testid="authority-der"
            >
              Download for phones (.crt, DER)
            </Button>
            <Button
              component="a"
              href={AUTHORITY_PEM_URL}
              download="mallard-ca.pem"
              variant="default"
              data-testid="authority-pem"
            >
              Download for computers (.pem, PEM)
            </Button>
          </Group>
        </Group>
        <Text size="xs" c="dimmed" ff="monospace" style={{ wordBreak: 'break-all' }}>
          SHA-256 {authority.fingerprint}
        </Text>
        <Accordion variant="separated">
          <Accordion.Item value="ios">
            <Accordion.Control>iPhone and iPad</Accordion.Control>
            <Accordion.Panel>
              <List size="sm" type="ordered">
                <List.Item>
                  Open this page in Safari on the device and tap “Download for phones”, or mail yourself the
                  file.
                </List.Item>
                <List.Item>
                  Settings → General → VPN &amp; Device Management → the downloaded profile → Install.
                </List.Item>
                <List.Item>
                  Settings → General → About → Certificate Trust Settings → switch on full trust for it.
                </List.Item>
              </List>
            </Accordion.Panel>
          </Accordion.Item>
          <Accordion.Item value="android">
            <Accordion.Control>Android</Accordion.Control>
            <Accordion.Panel>
              <List size="sm" type="ordered">
                <List.Item>Download the .crt file on the phone.</List.Item>
                <List.Item>
                  Settings → Security → More security settings → Encryption &amp; credentials → Install a
                  certificate → CA certificate, and pick the file (the menu names vary by maker).
                </List.Item>
              </List>
            </Accordion.Panel>
          </Accordion.Item>
          <Accordion.Item value="desktop">
            <Accordion.Control>Windows, macOS, Linux, Thunderbird</Accordion.Control>
            <Accordion.Panel>
              <List size="sm">
                <List.Item>
                  Windows: open the .crt file → Install Certificate → Local Machine → “Trusted Root
                  Certification Authorities”.
                </List.Item>
                <List.Item>
                  macOS: open the .pem file in Keychain Access, then set it to “Always Trust”.
                </List.Item>
                <List.Item>
                  Linux: copy the .pem file to <Code>/usr/local/share/ca-certificates/mallard-ca.crt</Code>{' '}
                  (that folder wants PEM under a .crt name) and run <Code>sudo update-ca-certificates</Code>.
                </List.Item>
                <List.Item>
                  Thunderbird keeps its own list: Settings → Privacy &amp; Security → Manage Certificates →
                  Authorities → Import.
                </List.Item>
              </List>
              <Text size="xs" c="dimmed" mt="xs">
                Check that the fingerprint your device shows matches the one above. See also{' '}
                <Anchor component={Link} to="/devices" size="xs">
                  Connect a device
                </Anchor>
                .
              </Text>
            </Accordion.Panel>
          </Accordion.Item>
        </Accordion>
      </Stack>
    </Card>
  );
}

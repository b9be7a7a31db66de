/**
 * "Open on the phone": a one-time link for this user, shown as a QR code. The phone opens it over
 * the local network and gets a page with the certificate authority and the user's profile — no
 * admin rights. It works once, for 15 minutes.
 */
import { Alert, Button, Card, Code, Image, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { panelApi } from '../../api/panel.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function DeviceLinkCard({ userId, username }: { userId: string; username: string }) {
  const lan = useQuery({ queryKey: ['panel-lan'], queryFn: panelApi.lan, retry: false });
  const link = useMutation({ mutationFn: () => panelApi.deviceLink(userId) });
  // Over the network the panel host does not make links (and GET /panel/lan is refused): hide.
  if (lan.isError) return null;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="device-link-title">
      <Title order={3} size="h4" mb="xs" id="device-link-title">
        Set up a phone with a QR code
      </Title>
      {lan.data && !lan.data.enabled ? (
        <Text size="sm" c="dimmed">
          Turn on “The panel from a phone” on the Settings page to set up {username}’s phone by scanning a
          code.
        </Text>
      ) : (
        <Stack>
          <Text size="sm" c="dimmed">
            The phone scans the code and opens a page with the certificate authority and {username}’s mail
            profile. The link works once, for 15 minutes, and gives no access to the control panel.
          </Text>
          <Button variant="default" w="fit-content" loading={link.isPending} onClick={() => link.mutate()}>
            {link.data ? 'Make a new link' : 'Make a link for the phone'}
          </Button>
          {link.error && <ErrorNotice error={link.error} title="No link was made" />}
          {link.data && (
            <Alert color="blue" title={`Scan with ${username}’s phone`}>
              <Image src={link.data.qr} alt="QR code of the device link" w={220} h={220} />
              <Text size="sm" mt="xs">
                Or open <Code data-testid="device-link">{link.data.url}</Code> on the phone. It expires at{' '}
                {new Date(link.data.expiresAt).toLocaleTimeString()}.
              </Text>
            </Alert>
          )}
        </Stack>
      )}
    </Card>
  );
}

/**
 * A secret the server hands out once (a generated password, an app password): shown in full with a
 * copy button and, for app passwords, a QR code a phone can scan. It is kept only in this
 * component's memory: close it and it is gone.
 */
import { Alert, Button, Code, CopyButton, Group, Image, Stack, Text } from '@mantine/core';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

export function SecretOnce({
  secret,
  label,
  withQr = false,
  testId = 'secret',
}: {
  secret: string;
  label: string;
  withQr?: boolean;
  testId?: string;
}) {
  return (
    <Alert color="yellow" variant="light" title={label} data-testid={`${testId}-panel`}>
      <Stack gap="sm">
        <Group gap="sm" wrap="nowrap">
          <Code
            fz="lg"
            p="xs"
            style={{ userSelect: 'all', wordBreak: 'break-all' }}
            data-testid={testId}
            aria-label={label}
          >
            {secret}
          </Code>
          <CopyButton value={secret} timeout={2000}>
            {({ copied, copy }) => (
              <Button variant="default" size="xs" onClick={copy} color={copied ? 'teal' : undefined}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
        {withQr && <SecretQr secret={secret} testId={`${testId}-qr`} />}
        <Text size="sm" fw={500}>
          Write it down or copy it now: it will not be shown again. Only a hash is stored.
        </Text>
      </Stack>
    </Alert>
  );
}

/** The secret as a QR code (plain text), for typing it into a phone by scanning. */
function SecretQr({ secret, testId }: { secret: string; testId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(secret, { margin: 2, width: 200, errorCorrectionLevel: 'M' })
      .then((data) => live && setUrl(data))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [secret]);
  if (failed) return <Text size="sm">The QR code could not be drawn; copy the text instead.</Text>;
  if (!url) return null;
  return (
    <Image
      src={url}
      w={200}
      h={200}
      radius="sm"
      alt="QR code of the app password: scan it with the phone to paste it"
      data-testid={testId}
    />
  );
}

import { Title } from '@mantine/core';

export function CertificatesPage() {
  return <Title order={2}>Certificates</Title>;
}

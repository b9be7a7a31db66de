import { Title } from '@mantine/core';

export function SessionsPage() {
  return <Title order={2}>Sessions</Title>;
}

import { Title } from '@mantine/core';

export function LogsPage() {
  return <Title order={2}>Logs</Title>;
}

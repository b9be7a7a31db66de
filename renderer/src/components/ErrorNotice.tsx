/** Shows an API error where it happened, in words a person understands, with the fields at fault. */
import { Alert, List } from '@mantine/core';
import { ApiError } from '../api/client.ts';

const TITLES: Record<string, string> = {
  validation_failed: 'Please check the form',
  not_found: 'Not found',
  conflict: 'Already exists',
  unauthorized: 'Not logged in',
  rate_limited: 'Too many attempts',
  server_unavailable: 'The mail server is not running',
  network: 'Cannot reach the panel',
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : 'unknown';
  const issues = error instanceof ApiError ? error.issues : [];
  return (
    <Alert color="red" variant="light" title={title ?? TITLES[code] ?? 'Something went wrong'} role="alert">
      {errorMessage(error)}
      {issues.length > 1 && (
        <List size="sm" mt="xs">
          {issues.map((issue) => (
            <List.Item key={issue.path}>
              {issue.path}: {issue.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}

/**
 * Bring mail in from a file on this computer: an mbox (Thunderbird's folder files, a provider's
 * takeout), or a .zip, .tar or .tar.gz of mbox folders or a Maildir (Apple Mail's export, our
 * own). The file is streamed to the server with a progress bar; the server then imports it as a
 * job, which appears with the others in the import card above (its progress, what was skipped).
 */
import { Button, Card, FileInput, Group, Progress, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { importKeys, importsApi, type ImportJobJson } from '../../api/imports.ts';
import { upload } from '../../api/upload.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatBytes } from '../format.ts';

export function ImportUpload({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState(0);
  const send = useMutation({
    mutationFn: (chosen: File) =>
      upload<ImportJobJson>(importsApi.uploadPath(userId, chosen.name), chosen, setSent),
    onMutate: () => setSent(0),
    onSuccess: async () => {
      setFile(null);
      await queryClient.invalidateQueries({ queryKey: importKeys.of(userId) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) send.mutate(file);
  };
  return (
    <Card withBorder data-testid="import-upload">
      <form onSubmit={submit}>
        <Stack gap="xs">
          <Title order={3} size="h4">
            Import from a file
          </Title>
          <Text size="sm" c="dimmed">
            An mbox file (a Thunderbird folder, a provider&apos;s takeout), or a .zip, .tar or .tar.gz of mbox
            folders or a Maildir (Apple Mail&apos;s export, a Mallard export). Flags and dates are kept; what
            is already here is not imported twice.
          </Text>
          <FileInput
            label="File"
            placeholder="Choose a file"
            value={file}
            onChange={setFile}
            clearable
            disabled={send.isPending}
            data-testid="import-upload-file"
          />
          {send.isPending && (
            <Stack gap={4}>
              <Progress value={sent * 100} animated data-testid="import-upload-progress" />
              <Text size="xs" c="dimmed">
                {sent < 1
                  ? `Uploading: ${formatBytes(Math.round(sent * (file?.size ?? 0)))} of ${formatBytes(file?.size ?? 0)}`
                  : 'Uploaded; starting the import…'}
              </Text>
            </Stack>
          )}
          <Group>
            <Button type="submit" disabled={!file} loading={send.isPending} data-testid="import-upload-start">
              Upload and import
            </Button>
          </Group>
          <ErrorNotice error={send.error} />
        </Stack>
      </form>
    </Card>
  );
}

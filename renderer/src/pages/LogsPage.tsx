/**
 * Logs: a live tail of the mail server's own log (`/api/logs`) and of the server process output as
 * the supervisor captured it, each in a tab, with a level and text filter, pause/resume and
 * auto-scroll. Only the newest matching lines are drawn, so thousands of lines stay quick.
 */
import {
  Badge,
  Box,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Switch,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import {
  filterLines,
  fromProcessLine,
  fromServerLines,
  logsApi,
  type LogLevel,
  type ViewLine,
} from '../api/logs.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';

const POLL_MS = 2_000;
/** Lines drawn at most (the newest that match the filters). */
const SHOWN = 1_000;
/** Process output lines kept in the page: the supervisor keeps a few hundred, the page gathers more. */
const KEPT = 5_000;

type Source = 'server' | 'process';

const LEVEL_COLORS: Record<LogLevel, string> = {
  trace: 'gray',
  debug: 'gray',
  info: 'blue',
  warn: 'yellow',
  error: 'red',
  fatal: 'red',
};

const LEVEL_CHOICES: { value: LogLevel; label: string }[] = [
  { value: 'trace', label: 'All' },
  { value: 'debug', label: 'Debug+' },
  { value: 'info', label: 'Info+' },
  { value: 'warn', label: 'Warnings+' },
  { value: 'error', label: 'Errors' },
];

/** The server log: the admin API returns the newest lines each time, so each poll replaces the last. */
function useServerLog(paused: boolean) {
  return useQuery({
    queryKey: ['logs', 'server'],
    queryFn: async () => fromServerLines((await logsApi.server()).lines),
    refetchInterval: paused ? false : POLL_MS,
    enabled: !paused,
    staleTime: 0,
  });
}

/** The process output is numbered: ask for what came after the last line seen and append. */
function useProcessLog(paused: boolean) {
  const [lines, setLines] = useState<ViewLine[]>([]);
  const [error, setError] = useState<unknown>(null);
  const after = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (paused) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const fresh = await logsApi.process(after.current);
        if (cancelled) return;
        setError(null);
        const last = fresh.at(-1);
        if (last) {
          // A restarted panel numbers from 1 again: start over rather than wait for old numbers.
          if (after.current !== undefined && last.seq < after.current) setLines([]);
          after.current = last.seq;
          setLines((current) => [...current, ...fresh.map(fromProcessLine)].slice(-KEPT));
        }
      } catch (caught) {
        if (!cancelled) setError(caught);
      }
      if (!cancelled) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [paused]);

  return { lines, error };
}

/** Memoized: a poll that adds lines leaves the existing rows alone. */
const LogLineRow = memo(function LogLineRow({ line }: { line: ViewLine }) {
  return (
    <Box
      component="div"
      data-level={line.level}
      style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', lineHeight: 1.45 }}
    >
      <Text span c="dimmed" ff="monospace" size="xs">
        {new Date(line.time).toLocaleTimeString()}{' '}
      </Text>
      <Text span ff="monospace" size="xs" fw={700} c={`${LEVEL_COLORS[line.level]}.6`}>
        {line.level.toUpperCase().padEnd(5)}{' '}
      </Text>
      <Text span ff="monospace" size="xs">
        {line.msg}
      </Text>
      {line.detail && (
        <Text span ff="monospace" size="xs" c="dimmed">
          {' '}
          {line.detail}
        </Text>
      )}
    </Box>
  );
});

function LogView({
  lines,
  autoScroll,
  onScrolledAway,
  testId,
  emptyText,
}: {
  lines: readonly ViewLine[];
  autoScroll: boolean;
  onScrolledAway: () => void;
  testId: string;
  emptyText: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (autoScroll && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, autoScroll]);
  return (
    <Paper
      withBorder
      p="sm"
      ref={box}
      data-testid={testId}
      data-lines={lines.length}
      tabIndex={0}
      aria-label="Log lines"
      style={{ height: 'calc(100vh - 300px)', minHeight: 260, overflowY: 'auto' }}
      onScroll={(event) => {
        const element = event.currentTarget;
        // Reading older lines: stop pulling the view down under the reader.
        if (autoScroll && element.scrollHeight - element.scrollTop - element.clientHeight > 40)
          onScrolledAway();
      }}
    >
      {lines.length === 0 ? (
        <Text c="dimmed" size="sm" data-testid={`${testId}-empty`}>
          {emptyText}
        </Text>
      ) : (
        lines.map((line) => <LogLineRow key={line.key} line={line} />)
      )}
    </Paper>
  );
}

export function LogsPage() {
  const [source, setSource] = useState<Source>('server');
  const [level, setLevel] = useState<LogLevel>('trace');
  const [text, setText] = useState('');
  const [debouncedText] = useDebouncedValue(text, 150);
  const [paused, setPaused] = useState(false);
  const [autoScroll, setAutoScroll] = useState(true);

  const server = useServerLog(paused || source !== 'server');
  const output = useProcessLog(paused || source !== 'process');

  const all = source === 'server' ? (server.data ?? []) : output.lines;
  const matching = useMemo(() => filterLines(all, level, debouncedText), [all, level, debouncedText]);
  const shown = matching.length > SHOWN ? matching.slice(-SHOWN) : matching;
  const error = source === 'server' ? server.error : output.error;
  const filtered = level !== 'trace' || debouncedText.trim() !== '';

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>Logs</Title>
        <Group gap="xs">
          {paused ? (
            <Badge color="gray" variant="light" data-testid="logs-paused">
              Paused
            </Badge>
          ) : (
            <Badge color="teal" variant="dot">
              Live
            </Badge>
          )}
          <Button variant="default" onClick={() => setPaused((value) => !value)} data-testid="logs-pause">
            {paused ? 'Resume' : 'Pause'}
          </Button>
        </Group>
      </Group>

      <Tabs value={source} onChange={(value) => setSource(value === 'process' ? 'process' : 'server')}>
        <Tabs.List>
          <Tabs.Tab value="server" data-testid="logs-tab-server">
            Mail server log
          </Tabs.Tab>
          <Tabs.Tab value="process" data-testid="logs-tab-process">
            Process output
          </Tabs.Tab>
        </Tabs.List>
      </Tabs>

      <Group align="flex-end" gap="md" wrap="wrap">
        <TextInput
          label="Filter"
          placeholder="Text in the message or its fields"
          value={text}
          onChange={(event) => setText(event.currentTarget.value)}
          w={320}
          data-testid="logs-filter"
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="logs-level-label">
            Level
          </Text>
          <SegmentedControl
            aria-labelledby="logs-level-label"
            value={level}
            onChange={(value) => setLevel(value as LogLevel)}
            data={LEVEL_CHOICES}
            data-testid="logs-level"
          />
        </Stack>
        <Switch
          label="Auto-scroll"
          checked={autoScroll}
          onChange={(event) => setAutoScroll(event.currentTarget.checked)}
          mb={6}
          data-testid="logs-autoscroll"
        />
      </Group>

      {error ? <ErrorNotice error={error} title="The log could not be read" /> : null}

      <Text size="xs" c="dimmed" data-testid="logs-count">
        {filtered
          ? `${matching.length} of ${all.length} lines match`
          : `${all.length} line${all.length === 1 ? '' : 's'}`}
        {matching.length > SHOWN ? ` · showing the newest ${SHOWN}` : ''}
        {source === 'server' ? ' · the server keeps its last few hundred lines' : ''}
      </Text>

      <LogView
        key={source}
        lines={shown}
        autoScroll={autoScroll}
        onScrolledAway={() => setAutoScroll(false)}
        testId="log-lines"
        emptyText={
          all.length === 0
            ? source === 'server'
              ? 'The server has not logged anything yet (or is not running).'
              : 'No process output yet.'
            : 'No line matches the filter.'
        }
      />
    </Stack>
  );
}

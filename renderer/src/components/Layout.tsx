/** The shell around every page: header (server state, live stream, dark mode, logout) and navigation. */
import {
  ActionIcon,
  Anchor,
  AppShell,
  Burger,
  Group,
  NavLink,
  Text,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { NavLink as RouterLink, useLocation } from 'react-router';
import { useStreamState } from '../api/events.ts';
import { panelApi, type PanelSession } from '../api/panel.ts';
import { PasswordReminder } from './PasswordReminder.tsx';
import { ServerStateBadge } from './ServerStateBadge.tsx';

const PAGES: ReadonlyArray<{ to: string; label: string }> = [
  { to: '/', label: 'Dashboard' },
  { to: '/domains', label: 'Domains' },
  { to: '/users', label: 'Users' },
  { to: '/rules', label: 'Connection rules' },
  { to: '/sessions', label: 'Sessions' },
  { to: '/queue', label: 'Outgoing mail' },
  { to: '/certificates', label: 'Certificates' },
  { to: '/backups', label: 'Backups' },
  { to: '/devices', label: 'Connect a device' },
  { to: '/logs', label: 'Logs' },
  { to: '/settings', label: 'Settings' },
  { to: '/setup', label: 'Setup wizard' },
];

export function Layout({ children, passwordSet }: { children: ReactNode; passwordSet: boolean }) {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <Anchor href="#main" className="skip-link" style={{ position: 'absolute', left: -9999 }}>
        Skip to content
      </Anchor>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={700} size="lg">
              Mallard
            </Text>
            <ServerStateBadge />
            <StreamDot />
          </Group>
          <Group gap="xs">
            <ColorSchemeToggle />
            <LogoutButton />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Pages">
        {PAGES.map((page) => (
          <NavLink
            key={page.to}
            component={RouterLink}
            to={page.to}
            label={page.label}
            active={page.to === '/' ? location.pathname === '/' : location.pathname.startsWith(page.to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main">
        {!passwordSet && <PasswordReminder />}
        {children}
      </AppShell.Main>
    </AppShell>
  );
}

function StreamDot() {
  const state = useStreamState();
  // Only pages that follow live events open the stream: elsewhere there is nothing to show.
  if (state === 'idle') return null;
  const label =
    state === 'open'
      ? 'Live updates on'
      : state === 'connecting'
        ? 'Connecting live updates'
        : 'Live updates off';
  return (
    <Tooltip label={label}>
      <span
        aria-label={label}
        role="status"
        style={{
          width: 10,
          height: 10,
          borderRadius: 5,
          display: 'inline-block',
          background: state === 'open' ? 'var(--mantine-color-teal-6)' : 'var(--mantine-color-gray-5)',
        }}
      />
    </Tooltip>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon
      variant="default"
      size="lg"
      onClick={() => setColorScheme(next)}
      aria-label={`Switch to ${next} mode`}
    >
      {computed === 'dark' ? '☀' : '☾'}
    </ActionIcon>
  );
}

function LogoutButton() {
  const queryClient = useQueryClient();
  return (
    <Anchor
      component="button"
      type="button"
      size="sm"
      onClick={async () => {
        await panelApi.logout().catch(() => undefined);
        // The login form replaces every page at once (clearing the cache alone would leave the
        // pages showing what they hold until a reload), then nothing of the session stays behind.
        queryClient.setQueryData<PanelSession>(['panel-session'], (session) => ({
          loggedIn: false,
          passwordSet: session?.passwordSet ?? true,
        }));
        queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'panel-session' });
        await queryClient.invalidateQueries({ queryKey: ['panel-session'] });
      }}
    >
      Log out
    </Anchor>
  );
}

/** The panel: the login gate, then the shell with one route per page. */
import { Center, Loader } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { setUnauthorizedHandler } from './api/client.ts';
import { panelApi } from './api/panel.ts';
import { Layout } from './components/Layout.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { CertificatesPage } from './pages/CertificatesPage.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { DevicesPage } from './pages/DevicesPage.tsx';
import { DomainsPage } from './pages/DomainsPage.tsx';
import { LogsPage } from './pages/LogsPage.tsx';
import { QueuePage } from './pages/QueuePage.tsx';
import { BackupsPage } from './pages/BackupsPage.tsx';
import { RulesPage } from './pages/RulesPage.tsx';
import { SessionsPage } from './pages/SessionsPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { SetupPage } from './pages/SetupPage.tsx';
import { FirstRunRedirect } from './components/setup/FirstRunRedirect.tsx';
import { UserPage } from './pages/UserPage.tsx';
import { FiltersPage } from './pages/FiltersPage.tsx';
import { UsersPage } from './pages/UsersPage.tsx';

export function App() {
  const queryClient = useQueryClient();
  const session = useQuery({ queryKey: ['panel-session'], queryFn: panelApi.session, staleTime: 60_000 });

  useEffect(() => {
    setUnauthorizedHandler(() => void queryClient.invalidateQueries({ queryKey: ['panel-session'] }));
  }, [queryClient]);

  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!session.data?.loggedIn) return <LoginPage session={session.data ?? null} error={session.error} />;

  return (
    <Layout passwordSet={session.data.passwordSet}>
      <FirstRunRedirect />
      <Routes>
        <Route path="/" element={<DashboardPage />} />
        <Route path="/domains" element={<DomainsPage />} />
        <Route path="/users" element={<UsersPage />} />
        <Route path="/users/:id" element={<UserPage />} />
        <Route path="/users/:id/filters" element={<FiltersPage />} />
        <Route path="/rules" element={<RulesPage />} />
        <Route path="/sessions" element={<SessionsPage />} />
        <Route path="/queue" element={<QueuePage />} />
        <Route path="/backups" element={<BackupsPage />} />
        <Route path="/certificates" element={<CertificatesPage />} />
        <Route path="/devices" element={<DevicesPage />} />
        <Route path="/logs" element={<LogsPage />} />
        <Route path="/settings" element={<SettingsPage />} />
        <Route path="/setup" element={<SetupPage />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Routes>
    </Layout>
  );
}

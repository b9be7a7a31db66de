/**
 * Connect a device: pick a user, then the settings to type into a mail app, the Apple profile and
 * Thunderbird files made from them, and the local CA for phones.
 */
import { Loader, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { devicesApi } from '../api/devices.ts';
import { userKeys, usersApi } from '../api/users.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { AuthorityCard } from '../components/certificates/AuthorityCard.tsx';
import { serverEndpoints } from '../components/devices/endpoints.ts';
import { DeviceLinkCard } from '../components/devices/DeviceLinkCard.tsx';
import { ProfileDownloads } from '../components/devices/ProfileDownloads.tsx';
import { ServerSettingsTable } from '../components/devices/ServerSettingsTable.tsx';
import { UserPicker } from '../components/devices/UserPicker.tsx';

export function DevicesPage() {
  const [params, setParams] = useSearchParams();
  const username = params.get('user') || null;
  const settings = useQuery({ queryKey: ['devices', 'settings'], queryFn: devicesApi.settings });
  const status = useQuery({ queryKey: ['devices', 'status'], queryFn: devicesApi.status });
  const certificates = useQuery({ queryKey: ['devices', 'certificates'], queryFn: devicesApi.certificates });
  // The display name for the profile: the first match of an exact search.
  const lookup = { search: username ?? undefined, offset: 0, limit: 50 };
  const users = useQuery({
    queryKey: userKeys.list(lookup),
    queryFn: () => usersApi.list(lookup),
    enabled: username !== null,
  });
  const user = users.data?.users.find((entry) => entry.username === username);

  const choose = (value: string | null) => setParams(value ? { user: value } : {}, { replace: true });

  // A missing certificate store (501) only means there is no CA to offer.
  const authority = certificates.data?.certificates.find((cert) => cert.kind === 'ca' && !cert.expired);
  const hasLocalCa = authority !== undefined;
  const activeTrust = certificates.data?.certificates.find((cert) => cert.active)?.trust;

  return (
    <Stack>
      <Title order={2}>Connect a device</Title>
      <Text c="dimmed" size="sm">
        Everything a phone, tablet or desktop mail app needs to read a user's mail from this server.
      </Text>
      <UserPicker value={username} onChange={choose} />
      <ErrorNotice error={settings.error} title="The server settings could not be loaded" />
      {users.data && username && !user && (
        <ErrorNotice error={new Error(`There is no user ${username}.`)} title="Unknown user" />
      )}
      {settings.isPending && <Loader aria-label="Loading the server settings" />}
      {settings.data && username && (
        <>
          <ServerSettingsTable
            hostname={settings.data.hostname}
            username={username}
            endpoints={serverEndpoints(settings.data, status.data)}
          />
          <ProfileDownloads
            key={`${username}|${hasLocalCa}|${activeTrust ?? ''}`}
            hostname={settings.data.hostname}
            username={username}
            displayName={user?.name ?? ''}
            endpoints={serverEndpoints(settings.data, status.data)}
            hasLocalCa={hasLocalCa && activeTrust === 'local-ca'}
          />
          {user && <DeviceLinkCard key={user.id} userId={user.id} username={username} />}
        </>
      )}
      {settings.data && !username && (
        <Text size="sm" c="dimmed" data-testid="pick-user-hint">
          Pick a user to see their settings.
        </Text>
      )}
      {authority ? (
        <AuthorityCard authority={authority} />
      ) : (
        certificates.isSuccess && (
          <Text size="sm" c="dimmed" data-testid="no-local-ca">
            There is no local CA: the server uses a certificate from elsewhere (or a self-signed one, which
            devices will warn about). Create a local CA and a server certificate on the Certificates page to
            hand out a CA phones can trust.
          </Text>
        )
      )}
    </Stack>
  );
}

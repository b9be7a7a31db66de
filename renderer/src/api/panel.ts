/** The panel host's own endpoints: login session, the supervised server, its log. */
import type {
  LogLine,
  ServerState,
  SupervisorStatus as SupervisedStatus,
} from '../../../app/supervisor/types.ts';
import { api } from './client.ts';

export interface PanelSession {
  loggedIn: boolean;
  passwordSet: boolean;
  /** Opened over the local network (HTTPS; password + two-factor code only). */
  lan?: boolean;
  totpEnrolled?: boolean;
}

/** GET /panel/lan: the panel on the local network, and the admin's second factor. */
export interface LanState {
  enabled: boolean;
  url: string | null;
  port: number;
  totpEnrolled: boolean;
  recoveryCodesLeft: number;
}

export interface DeviceLink {
  url: string;
  /** The URL as a QR code (data: URL). */
  qr: string;
  expiresAt: string;
  address: string;
}

export type { ServerState };

/** What `GET /panel/server` answers: the supervisor's status and the server's uptime. */
export type SupervisorStatus = SupervisedStatus & { uptimeSeconds: number | null };

export type SupervisorLogLine = LogLine;

export const panelApi = {
  session: () => api.get<PanelSession>('/panel/session'),
  loginWithToken: (token: string) => api.post<PanelSession>('/panel/login', { token }),
  loginWithPassword: (password: string) => api.post<PanelSession>('/panel/login', { password }),
  loginOverLan: (password: string, second: { code: string } | { recovery: string }) =>
    api.post<PanelSession>('/panel/login', { password, ...second }),
  logout: () => api.post<void>('/panel/logout'),
  lan: () => api.get<LanState>('/panel/lan'),
  setLan: (enabled: boolean) => api.post<LanState>('/panel/lan', { enabled }),
  beginTotp: () => api.post<{ secret: string; uri: string; qr: string }>('/panel/totp/begin'),
  confirmTotp: (code: string) =>
    api.post<LanState & { recoveryCodes: string[] }>('/panel/totp/confirm', { code }),
  deviceLink: (userId: string) => api.post<DeviceLink>('/panel/device-links', { userId }),
  setPassword: (password: string) => api.post<PanelSession>('/panel/password', { password }),
  server: () => api.get<SupervisorStatus>('/panel/server'),
  serverAction: (action: 'start' | 'stop' | 'restart') =>
    api.post<SupervisorStatus>(`/panel/server/${action}`),
  serverLogs: (after?: number) =>
    api.get<SupervisorLogLine[]>(`/panel/server/logs${after === undefined ? '' : `?after=${after}`}`),
};

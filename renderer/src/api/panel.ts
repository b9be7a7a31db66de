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
}

export type { ServerState };

/** What `GET /panel/server` answers: the supervisor's status and the server's uptime. */
export type SupervisorStatus = SupervisedStatus & { uptimeSeconds: number | null };

export type SupervisorLogLine = LogLine;

export const panelApi = {
  session: () => api.get<PanelSession>('/panel/session'),
  loginWithToken: (token: string) => api.post<PanelSession>('/panel/login', { token }),
  loginWithPassword: (password: string) => api.post<PanelSession>('/panel/login', { password }),
  logout: () => api.post<void>('/panel/logout'),
  setPassword: (password: string) => api.post<PanelSession>('/panel/password', { password }),
  server: () => api.get<SupervisorStatus>('/panel/server'),
  serverAction: (action: 'start' | 'stop' | 'restart') =>
    api.post<SupervisorStatus>(`/panel/server/${action}`),
  serverLogs: (after?: number) =>
    api.get<SupervisorLogLine[]>(`/panel/server/logs${after === undefined ? '' : `?after=${after}`}`),
};

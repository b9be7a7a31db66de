/** The panel host's own endpoints: login session, the supervised server, its log. */
import { api } from './client.ts';

export interface PanelSession {
  loggedIn: boolean;
  passwordSet: boolean;
}

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping' | 'backoff';

export interface SupervisorStatus {
  state: ServerState;
  pid: number | null;
  startedAt: string | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  nextRestartAt: string | null;
  uptimeSeconds: number | null;
}

export interface SupervisorLogLine {
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'supervisor';
  text: string;
}

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

/** What the tray shows for a server state: the status line of its menu and its tooltip. */
import type { SupervisorStatus } from '../supervisor/types.ts';

export interface TrayModel {
  statusLabel: string;
  tooltip: string;
  /** Whether "Restart server" is offered. */
  canRestart: boolean;
}

export function trayModel(status: SupervisorStatus | null, now: number = Date.now()): TrayModel {
  const label = statusLabel(status, now);
  return {
    statusLabel: label,
    tooltip: `Mallard — ${label.charAt(0).toLowerCase()}${label.slice(1)}`,
    canRestart: status !== null && status.state !== 'stopping',
  };
}

function statusLabel(status: SupervisorStatus | null, now: number): string {
  if (status === null) return 'Server not run by this app';
  switch (status.state) {
    case 'running':
      return status.pid === null ? 'Server running' : `Server running (pid ${status.pid})`;
    case 'starting':
      return 'Server starting…';
    case 'stopping':
      return 'Server stopping…';
    case 'stopped':
      return 'Server stopped';
    case 'backoff': {
      const due = status.nextRestartAt ? Date.parse(status.nextRestartAt) : NaN;
      const seconds = Number.isNaN(due) ? null : Math.max(0, Math.ceil((due - now) / 1000));
      return seconds === null
        ? 'Server stopped unexpectedly; restarting'
        : `Server stopped unexpectedly; restarting in ${seconds} s`;
    }
  }
}

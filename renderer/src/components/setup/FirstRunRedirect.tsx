/** Sends a new install's admin to the wizard once (see firstRun.ts). */
import { useQuery } from '@tanstack/react-query';
import { Navigate, useLocation } from 'react-router';
import { SETUP_KEY, setupApi } from '../../api/setup.ts';
import { setupDeferred } from './firstRun.ts';

export function FirstRunRedirect() {
  const location = useLocation();
  const setup = useQuery({ queryKey: SETUP_KEY, queryFn: setupApi.get, staleTime: 30_000 });
  if (!setup.data?.firstRun || setupDeferred() || location.pathname === '/setup') return null;
  return <Navigate to="/setup" replace />;
}

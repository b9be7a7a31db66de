/**
 * The panel opens the wizard by itself on a new install (no account, wizard not finished); "Finish
 * later" stops that for this browser tab, so the admin can look around first.
 */
const DEFERRED = 'mallard.setup-deferred';

export function deferSetup(): void {
  sessionStorage.setItem(DEFERRED, '1');
}

export function setupDeferred(): boolean {
  return sessionStorage.getItem(DEFERRED) === '1';
}

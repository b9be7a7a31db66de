/**
 * DNS-01 done by the operator: the record to publish is shown (status, API, panel, CLI) and the run
 * waits until the operator says it is published (`confirm()`, POST /api/acme/confirm) — or gives up
 * after `timeoutMs`, or when the run is cancelled.
 */
import { dnsChallengeName, type ChallengeResponder, type ChallengeTask } from './types.ts';

export interface ManualRecord {
  /** `_acme-challenge.mail.example.org` */
  name: string;
  type: 'TXT';
  value: string;
}

export interface ManualResponder extends ChallengeResponder {
  /** The records waiting for the operator. */
  pending(): ManualRecord[];
  /** The operator published them: the CA may look. */
  confirm(): boolean;
}

export function manualChallengeResponder(options: {
  timeoutMs: number;
  onWaiting: (records: ManualRecord[]) => void;
}): ManualResponder {
  const records = new Map<string, ManualRecord>();
  let waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const settle = (outcome: Error | null) => {
    const current = waiters;
    waiters = [];
    for (const waiter of current) {
      if (outcome) waiter.reject(outcome);
      else waiter.resolve();
    }
  };
  return {
    acmeType: 'dns-01',
    async present(task: ChallengeTask) {
      records.set(task.token, {
        name: dnsChallengeName(task.identifier),
        type: 'TXT',
        value: task.keyAuthorization,
      });
      options.onWaiting([...records.values()]);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `nobody confirmed the TXT record(s) within ${Math.round(options.timeoutMs / 60000)} minutes`,
              ),
            ),
          options.timeoutMs,
        );
        timer.unref();
        waiters.push({
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
      });
    },
    async cleanup(task: ChallengeTask) {
      records.delete(task.token);
    },
    async close() {
      records.clear();
      settle(new Error('the certificate request was cancelled'));
    },
    pending: () => [...records.values()],
    confirm() {
      if (waiters.length === 0) return false;
      settle(null);
      return true;
    },
  };
}

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeDataDir } from '../../test/helpers/cli.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { loadConfig } from '../config/load.ts';
import { CertificateStore } from '../tls/store.ts';
import { AcmeService, type AcmeStatus } from './service.ts';

describe('the renewal check', () => {
  it(
    'retries a failed request with a doubling delay, recording each failure',
    { timeout: 30_000 },
    async () => {
      const dataDir = makeDataDir();
      // A directory on a port where nothing listens: every attempt fails at once.
      const closed = await freePort();
      const config = loadConfig({
        env: {
          MALLARD_CONFIG: '',
          MALLARD_DATA_DIR: dataDir,
          MALLARD_HOSTNAME: 'mail.example.test',
          MALLARD_ACME_ENABLED: 'true',
          MALLARD_ACME_ACCEPT_TERMS: 'true',
          MALLARD_ACME_DIRECTORY_URL: `https://127.0.0.1:${closed}/dir`,
        },
      });
      const failures: AcmeStatus[] = [];
      const failedAt: number[] = [];
      // The instants the service read its clock at: a retry is scheduled from the last one.
      const clockReads: number[] = [];
      let second: () => void;
      const secondFailure = new Promise<void>((resolve) => (second = resolve));
      const service = new AcmeService({
        config,
        certificates: new CertificateStore(dataDir),
        retryBaseMs: 100,
        now: () => {
          clockReads.push(Date.now());
          return clockReads.at(-1)!;
        },
        onChange: (status) => {
          if (status.state !== 'failed' || failures.at(-1)?.failures === status.failures) return;
          failures.push(status);
          failedAt.push(clockReads.at(-1)!);
          if (status.failures === 2) second();
        },
      });
      try {
        service.start();
        await secondFailure;
        expect(failures.map((status) => status.failures)).toEqual([1, 2]);
        expect(failures[0]!.lastError).toMatch(/ECONNREFUSED/);
        // Retried 100 ms after the first failure, 200 ms after the second (counted from the
        // service's own clock, so a loaded machine cannot skew it), and never before that time.
        const delays = failures.map(
          (status, index) => new Date(status.nextAttemptAt!).getTime() - failedAt[index]!,
        );
        expect(delays).toEqual([100, 200]);
        // (a timer may fire within its millisecond of the wall clock's time)
        expect(failedAt[1]).toBeGreaterThanOrEqual(new Date(failures[0]!.nextAttemptAt!).getTime() - 1);
        expect(service.status().certificate).toBeNull();
      } finally {
        await service.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

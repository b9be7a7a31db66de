/** The daily schedule's next run, and a run interrupted by stopping the server leaves no file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { BackupService, nextRunAfter } from './service.ts';

describe('nextRunAfter', () => {
  it('is the next local hour:00 strictly after now', () => {
    expect(nextRunAfter(new Date(2026, 11, 6, 2, 59), 3)).toEqual(new Date(2026, 11, 6, 3, 0));
    expect(nextRunAfter(new Date(2026, 11, 6, 3, 0), 3)).toEqual(new Date(2026, 11, 7, 3, 0));
    expect(nextRunAfter(new Date(2026, 11, 31, 23, 30), 0)).toEqual(new Date(2027, 0, 1, 0, 0));
  });
});

describe('BackupService', () => {
  it('schedules only with a destination, and stopping interrupts a run without leaving a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-backup-service-'));
    const store = await SqliteStore.open(path.join(dir, 'data'));
    try {
      const user = await store.createUser({ username: 'a@example.com', passwordHash: '$argon2id$x' });
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      for (let i = 0; i < 300; i++)
        await store.append(inbox.id, Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat(5000)}\r\n`));
      const logger = createLogger('silent', process.stderr);
      const idle = new BackupService({
        config: loadConfig({ env: { MALLARD_DATA_DIR: dir } }),
        store,
        logger,
      });
      idle.start();
      expect(idle.status()).toMatchObject({ configured: false, nextRunAt: null });
      await expect(idle.runNow()).rejects.toThrow(/no backup destination/);

      const destination = path.join(dir, 'backups');
      const config = loadConfig({
        env: { MALLARD_DATA_DIR: dir, MALLARD_BACKUP_DESTINATION: destination, MALLARD_BACKUP_HOUR: '4' },
      });
      const service = new BackupService({ config, store, logger });
      service.start();
      expect(new Date(service.status().nextRunAt!).getHours()).toBe(4);
      const started = await service.runNow();
      expect(started.running).toBe(true);
      await expect(service.runNow()).rejects.toThrow(/a backup is running/);
      await service.stop();
      const status = service.status();
      expect(status).toMatchObject({ running: false, nextRunAt: null, backups: [] });
      expect(status.last).toMatchObject({ ok: false, error: 'the backup was interrupted' });
      expect(fs.readdirSync(destination).filter((name) => name.includes('.mbk'))).toEqual([]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

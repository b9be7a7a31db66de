/** The supervisor running the real `mallard serve`: ready through the admin API, BYE to sessions on stop. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { MALLARD_BIN, ROOT, makeDataDir } from '../../test/helpers/cli.ts';
import { freePorts, panelConfig } from '../../test/helpers/panel.ts';
import { LineClient } from '../../test/helpers/server.ts';
import { ServerSupervisor } from './supervisor.ts';

const dataDir = makeDataDir('mallard-supervised-');
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function adminStatus(port: number): Promise<boolean> {
  try {
    const token = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    const response = await fetch(`http://127.0.0.1:${port}/api/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('ServerSupervisor with mallard serve', () => {
  it('is running once the admin API answers, and a stop says BYE to IMAP sessions', async () => {
    const ports = await freePorts();
    const configFile = path.join(dataDir, 'config.yaml');
    fs.writeFileSync(configFile, stringifyYaml(panelConfig(dataDir, ports)));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('MALLARD_')),
    );
    const supervisor = new ServerSupervisor({
      command: process.execPath,
      args: [MALLARD_BIN, 'serve', '--config', configFile],
      env,
      cwd: ROOT,
      isReady: () => adminStatus(ports.admin),
      stopTimeoutMs: 15_000,
    });
    supervisor.start();
    try {
      const deadline = Date.now() + 60_000;
      while (supervisor.status().state !== 'running') {
        if (Date.now() > deadline)
          throw new Error(
            supervisor
              .logs()
              .map((line) => line.text)
              .join('\n'),
          );
        expect(['starting', 'running']).toContain(supervisor.status().state);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await adminStatus(ports.admin)).toBe(true);
      const client = await LineClient.connect(ports.imap);
      expect(await client.readUntil(/^\* OK/)).toMatch(/^\* OK/);
      expect(await client.command('a1', 'CAPABILITY')).toMatch(/a1 OK/);
      const stopped = supervisor.stop();
      const bye = await client.readUntil(/^\* BYE/, 15_000);
      expect(bye).toMatch(/\* BYE/);
      await stopped;
      client.close();
      expect(supervisor.status().state).toBe('stopped');
      // It shut down by itself (store closed, exit code 0), not by SIGKILL.
      expect(supervisor.status().lastExit).toMatchObject({ code: 0, signal: null });
      expect(supervisor.logs().some((line) => line.text.includes('mallard stopped'))).toBe(true);
      expect(await adminStatus(ports.admin)).toBe(false);
    } finally {
      await supervisor.stop();
    }
  });
});

/**
 * "Test connection" for the Settings page: can a MongoDB URI be reached, and what answers there?
 * Connects with a short server-selection timeout, asks for the version and the topology, and
 * closes again. Never throws: the answer is words for a person.
 */
import { MongoClient } from 'mongodb';

export interface ProbeResult {
  ok: boolean;
  detail: string;
  version?: string;
}

export const PROBE_TIMEOUT_MS = 3000;

interface Hello {
  setName?: string;
  msg?: string;
  isWritablePrimary?: boolean;
}

function topologyOf(hello: Hello): string {
  if (hello.msg === 'isdbgrid') return 'a sharded cluster (mongos)';
  if (hello.setName) return `replica set ${hello.setName}${hello.isWritablePrimary ? ' (primary)' : ''}`;
  return 'a standalone server';
}

/** Hides the password of a URI with credentials, for messages. */
function withoutPassword(text: string): string {
  return text.replace(/(mongodb(?:\+srv)?:\/\/[^:/@]*:)[^@/]*@/gi, '$1***@');
}

export async function probeMongo(uri: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  let client: MongoClient;
  try {
    client = new MongoClient(uri, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      socketTimeoutMS: timeoutMs * 2,
      appName: 'mallard-probe',
    });
  } catch (error) {
    return { ok: false, detail: `not a usable MongoDB URI: ${withoutPassword((error as Error).message)}` };
  }
  try {
    await client.connect();
    const admin = client.db('admin');
    const build = (await admin.command({ buildInfo: 1 })) as { version?: string };
    // `hello` since MongoDB 4.4.2; older servers (and some compatible ones) know only isMaster.
    const hello = (await admin.command({ hello: 1 }).catch(() => admin.command({ isMaster: 1 }))) as Hello;
    const version = build.version ?? 'unknown';
    return { ok: true, detail: `connected to MongoDB ${version}, ${topologyOf(hello)}`, version };
  } catch (error) {
    const message = withoutPassword((error as Error).message || String(error));
    return { ok: false, detail: `cannot connect: ${message}` };
  } finally {
    await client.close().catch(() => {});
  }
}

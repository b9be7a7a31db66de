/**
 * A stand-in for the `mongod` binary, for tests of the local replica set (no real mongod can be
 * installed here). It records its command line, runs the MongoDB stand-in (mongo-java-server) on
 * a private port with its data in --dbpath, and listens on --port as a wire-protocol proxy that
 * plays the replica-set part the stand-in lacks: `hello` answers as a member of --replSet
 * (uninitiated until `replSetInitiate`, then member 1 is primary and the others secondaries),
 * `replSetInitiate` and `replSetGetStatus` are answered here; everything else goes to the stand-in.
 *
 * Each member has its own stand-in: only the primary's data is used. SIGTERM stops it cleanly;
 * the stand-in exits by itself when this process dies (its stdin closes).
 *
 * Plain JavaScript: it is run as a program, without the TypeScript loader.
 */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { BSON } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const ELECTION_ID = new BSON.ObjectId('7fffffff0000000000000001');

function option(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const port = Number(option('port'));
const dbPath = option('dbpath');
const setName = option('replSet');
const logPath = option('logpath');
if (!port || !dbPath || !setName) {
  process.stderr.write('fake mongod: --port, --dbpath and --replSet are required\n');
  process.exit(2);
}
fs.mkdirSync(dbPath, { recursive: true });
fs.appendFileSync(
  path.join(dbPath, 'fake-args.jsonl'),
  `${JSON.stringify({ pid: process.pid, args: process.argv.slice(2) })}\n`,
);
const log = (line) => logPath && fs.appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`);
const me = `127.0.0.1:${port}`;
// The set's configuration is shared by the members through the set's folder (<root>/member-N/db).
const stateFile = path.resolve(dbPath, '..', '..', 'fake-replset.json');
const readConfig = () => {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    return null;
  }
};

// --- the stand-in ---

const standInDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'mongo-stand-in',
  'build',
);
const java = spawn(
  'java',
  [
    '-Xss512k',
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-cp',
    `${path.join(standInDir, 'classes')}${path.delimiter}${path.join(standInDir, 'lib', '*')}`,
    'MongoStandIn',
    '--h2',
    path.join(dbPath, 'data.h2'),
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const upstreamPort = await new Promise((resolve, reject) => {
  let text = '';
  java.stdout.setEncoding('utf8');
  java.stdout.on('data', (chunk) => {
    text += chunk;
    const match = /^PORT (\d+)$/m.exec(text);
    if (match) resolve(Number(match[1]));
  });
  java.once('exit', (code) => reject(new Error(`stand-in exited (${code})`)));
});
log(`stand-in on ${upstreamPort}, member ${me} of ${setName}`);

// --- wire protocol ---

/** The first BSON document at `offset` (a message may carry more sections after it). */
function documentAt(message, offset) {
  return BSON.deserialize(message.subarray(offset, offset + message.readInt32LE(offset)));
}

function commandOf(message) {
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG && message[20] === 0) return documentAt(message, 21);
  if (opCode === OP_QUERY) return documentAt(message, message.indexOf(0, 20) + 9);
  return null;
}

function encode(opCode, requestId, responseTo, doc) {
  const body = BSON.serialize(doc);
  const prefix =
    opCode === OP_MSG
      ? Buffer.from([0, 0, 0, 0, 0])
      : Buffer.concat([Buffer.alloc(4), Buffer.alloc(8), Buffer.alloc(4), int32(1)]);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + prefix.length + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, prefix, body]);
}

function int32(value) {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(value, 0);
  return buffer;
}

function patchHello(doc) {
  const config = readConfig();
  delete doc.topologyVersion; // no streaming monitoring: the driver polls
  if (!config) {
    return {
      ...doc,
      isWritablePrimary: false,
      ismaster: false,
      secondary: false,
      isreplicaset: true,
      info: 'Does not have a valid replica set config',
    };
  }
  const hosts = config.members.map((member) => member.host);
  const primary = hosts[0];
  return {
    ...doc,
    setName: config._id,
    setVersion: 1,
    electionId: me === primary ? ELECTION_ID : undefined,
    hosts,
    me,
    primary,
    isWritablePrimary: me === primary,
    ismaster: me === primary,
    secondary: me !== primary,
  };
}

let connectionIds = 0;

/** hello / isMaster, answered here (the stand-in knows only isMaster, and no replica sets). */
function helloAnswer() {
  return patchHello({
    ok: 1,
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    minWireVersion: 0,
    maxWireVersion: 13,
    connectionId: ++connectionIds,
    readOnly: false,
  });
}

function localAnswer(command) {
  const name = Object.keys(command)[0];
  if (['hello', 'ismaster', 'isMaster'].includes(name)) return helloAnswer();
  if (name === 'replSetInitiate') {
    if (readConfig())
      return { ok: 0, code: 23, codeName: 'AlreadyInitialized', errmsg: 'already initialized' };
    fs.writeFileSync(stateFile, JSON.stringify(command.replSetInitiate));
    log(`initiated ${JSON.stringify(command.replSetInitiate)}`);
    return { ok: 1 };
  }
  if (name === 'replSetGetStatus') {
    const config = readConfig();
    if (!config)
      return {
        ok: 0,
        code: 94,
        codeName: 'NotYetInitialized',
        errmsg: 'no replset config has been received',
      };
    return {
      ok: 1,
      set: config._id,
      members: config.members.map((m, i) => ({
        _id: m._id,
        name: m.host,
        stateStr: i === 0 ? 'PRIMARY' : 'SECONDARY',
      })),
    };
  }
  return null;
}

/** Splits a byte stream into whole messages. */
function framer(onMessage) {
  let buffered = Buffer.alloc(0);
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
      const length = buffered.readInt32LE(0);
      onMessage(buffered.subarray(0, length));
      buffered = buffered.subarray(length);
    }
  };
}

const sockets = new Set();
const server = net.createServer((client) => {
  const upstream = net.connect(upstreamPort, '127.0.0.1');
  sockets.add(client);
  sockets.add(upstream);
  const close = () => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
  client.on(
    'data',
    framer((message) => {
      const command = commandOf(message);
      const answer = command ? localAnswer(command) : null;
      if (answer) {
        if (answer.electionId === undefined) delete answer.electionId;
        client.write(
          encode(message.readInt32LE(12) === OP_QUERY ? OP_REPLY : OP_MSG, 0, message.readInt32LE(4), answer),
        );
        return;
      }
      upstream.write(message);
    }),
  );
  upstream.on('data', (chunk) => client.write(chunk));
});
server.listen(port, '127.0.0.1', () => log(`listening on ${me}`));
server.once('error', (error) => {
  process.stderr.write(`fake mongod: ${error.message}\n`);
  java.stdin.end();
  process.exit(48); // mongod's exit code when its port is taken
});

function shutdown() {
  log('shutting down');
  server.close();
  for (const socket of sockets) socket.destroy();
  java.stdin.end();
  java.once('exit', () => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

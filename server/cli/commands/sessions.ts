/** `mallard sessions [--json]`, `mallard sessions kick ID`: live sessions of the running server. */
import type { SessionJson } from '../../admin/schemas.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { printList, withServer } from '../context.ts';

const USAGE = `mallard sessions [list] [--protocol P] [--user EMAIL] [--json]
       mallard sessions kick ID`;

function remote(session: SessionJson): string {
  const host = session.remoteAddress.includes(':') ? `[${session.remoteAddress}]` : session.remoteAddress;
  return `${host}:${session.remotePort}`;
}

function state(session: SessionJson): string {
  if (session.idle) return 'idle';
  return session.command ?? '-';
}

export async function sessionsCommand(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const kick = first === 'kick';
  const { values, positionals } = parseCommandArgs(
    kick || first === 'list' ? rest : argv,
    { protocol: { type: 'string' }, user: { type: 'string' } },
    USAGE,
  );
  if (!kick && positionals.length > 0) {
    throw usageError(`unknown action: sessions ${positionals[0]}`, USAGE);
  }
  return withServer(values.config, async (api) => {
    if (kick) {
      const [id] = requirePositionals(positionals, ['ID'], USAGE);
      await api.request('DELETE', `/api/sessions/${encodeURIComponent(id!)}`);
      process.stdout.write(`${id}\tkicked\n`);
      return EXIT.ok;
    }
    const query = new URLSearchParams();
    if (values.protocol) query.set('protocol', values.protocol);
    if (values.user) query.set('user', values.user);
    const { sessions } = await api.request<{ sessions: SessionJson[] }>(
      'GET',
      `/api/sessions${query.size ? `?${query}` : ''}`,
    );
    printList(sessions, values.json, (session) => [
      session.id,
      session.protocol,
      remote(session),
      session.user ?? '-',
      session.tls ? session.tls.version : session.secure ? 'tls' : 'plain',
      session.mailbox ?? '-',
      state(session),
      session.startedAt,
    ]);
    // Said on stderr: stdout stays one line per session for scripts, and empty means none.
    if (sessions.length === 0 && !values.json) {
      process.stderr.write(query.size ? 'no live sessions match\n' : 'no live sessions\n');
    }
    return EXIT.ok;
  });
}

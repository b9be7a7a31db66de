/**
 * `mallard queue list|show ID|retry ID|delete ID`: the outbound queue, read from the store (which
 * every server process shares, so a retry is picked up by the running server at its next poll).
 */
import type { OutboundMessage, OutboundRecipient } from '../../store/outbound.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { printList, printObject, withStore } from '../context.ts';

const USAGE = 'mallard queue list [--json] | show ID [--json] | retry ID | delete ID';

function recipientLine(recipient: OutboundRecipient): string {
  const next = recipient.nextAttemptAt ? ` next ${recipient.nextAttemptAt.toISOString()}` : '';
  const error = recipient.lastError ? ` (${recipient.lastError})` : '';
  return `${recipient.address} ${recipient.state} after ${recipient.attempts} attempts${next}${error}`;
}

function summary(message: OutboundMessage): unknown[] {
  const states = message.recipients.map((recipient) => `${recipient.address}:${recipient.state}`).join(',');
  return [
    message.id,
    message.createdAt.toISOString(),
    `<${message.sender}>`,
    `${message.size} bytes`,
    states,
  ];
}

export async function queueCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  return withStore(values.config, async ({ store }) => {
    switch (action) {
      case 'list':
        printList(await store.listOutbound(), values.json, summary);
        return EXIT.ok;
      case 'show': {
        const [id] = requirePositionals(positionals, ['ID'], USAGE);
        const message = await store.getOutbound(id!);
        if (!message) {
          process.stderr.write(`mallard: no queued message ${id}\n`);
          return EXIT.noUser;
        }
        printObject(message, values.json, [
          ['id', message.id],
          ['queued', message.createdAt.toISOString()],
          ['sender', `<${message.sender}>`],
          ['size', `${message.size} bytes`],
          ...message.recipients.map((recipient): [string, unknown] => [
            'recipient',
            recipientLine(recipient),
          ]),
        ]);
        return EXIT.ok;
      }
      case 'retry': {
        const [id] = requirePositionals(positionals, ['ID'], USAGE);
        const message = await store.retryOutbound(id!);
        process.stdout.write(`${message.id}: pending recipients due now\n`);
        return EXIT.ok;
      }
      case 'delete': {
        const [id] = requirePositionals(positionals, ['ID'], USAGE);
        await store.deleteOutbound(id!);
        process.stdout.write(`${id}: deleted\n`);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: queue ${action}` : 'missing action', USAGE);
    }
  });
}

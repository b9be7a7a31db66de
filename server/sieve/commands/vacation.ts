/**
 * vacation (RFC 5230, :seconds from RFC 6131): asks for an automatic reply. The period is kept within
 * the server's bounds; the handle defaults to one made of the reply's text, subject, from and :mime
 * (as Pigeonhole forms it), so that changing the reply answers senders anew. Whether a reply is
 * really sent (not to lists, bulk or auto-submitted mail, once per sender per period) is decided
 * by delivery.
 */
import type { CommandDefinition } from '../definition.ts';
import { VACATION_PERIOD } from '../runtime.ts';

function period(seconds: number): number {
  return Math.min(VACATION_PERIOD.max, Math.max(VACATION_PERIOD.min, seconds));
}

export const vacation: CommandDefinition = {
  kind: 'command',
  name: 'vacation',
  extensions: ['vacation'],
  tags: {
    days: { argument: 'number', group: 'period' },
    seconds: { argument: 'number', group: 'period', extension: 'vacation-seconds' },
    subject: { argument: 'string' },
    from: { argument: 'string' },
    addresses: { argument: 'string-list' },
    mime: {},
    handle: { argument: 'string' },
  },
  positional: ['string'],
  execute(node, runtime) {
    const reason = runtime.string(node.positional[0]);
    const subject = node.tags.has('subject') ? runtime.string(node.tags.get('subject')) : null;
    const from = node.tags.has('from') ? runtime.string(node.tags.get('from')) : null;
    const mime = node.tags.has('mime');
    const handle = node.tags.has('handle')
      ? runtime.string(node.tags.get('handle'))
      : `${reason}${subject ?? '<default-subject>'}${from ?? '<default-from>'}${mime ? '<MIME>' : '<NO-MIME>'}`;
    const seconds = node.tags.has('seconds')
      ? period(runtime.number(node.tags.get('seconds')))
      : node.tags.has('days')
        ? period(runtime.number(node.tags.get('days')) * 86_400)
        : VACATION_PERIOD.default;
    const addresses = runtime.strings(node.tags.get('addresses'));
    runtime.addAction({ type: 'vacation', reason, subject, from, addresses, mime, handle, seconds }, node);
  },
};

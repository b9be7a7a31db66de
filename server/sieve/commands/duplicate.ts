/**
 * The duplicate test (RFC 7352): true when a message with the same id (the Message-ID, another
 * :header field, or :uniqueid) was seen within the period. The id is remembered by delivery once the
 * message is delivered, so that a failed delivery does not mark it seen.
 */
import type { TestDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';

const DEFAULT_PERIOD = 7 * 86_400;

export const duplicate: TestDefinition = {
  kind: 'test',
  name: 'duplicate',
  extensions: ['duplicate'],
  tags: {
    handle: { argument: 'string' },
    header: { argument: 'string', group: 'id' },
    uniqueid: { argument: 'string', group: 'id' },
    seconds: { argument: 'number' },
    last: {},
  },
  positional: [],
  validate(node) {
    const name = node.tags.get('header');
    if (name !== undefined && name !== true && name.kind === 'string' && !/^[!-9;-~]+$/.test(name.value)) {
      throw new SieveCompileError(`invalid header field name "${name.value}"`, name.position);
    }
  },
  evaluate(node, runtime) {
    let value: string | undefined;
    if (node.tags.has('uniqueid')) value = runtime.string(node.tags.get('uniqueid'));
    else
      value = runtime.message.headerValues(
        node.tags.has('header') ? runtime.string(node.tags.get('header')) : 'message-id',
      )[0];
    if (value === undefined) return false;
    const id = `${runtime.string(node.tags.get('handle'))}\u0000${value}`;
    const seconds = node.tags.has('seconds') ? runtime.number(node.tags.get('seconds')) : DEFAULT_PERIOD;
    const seen = runtime.env.duplicateSeen?.(id) ?? false;
    if (!runtime.duplicates.some((entry) => entry.id === id))
      runtime.duplicates.push({ id, seconds, afterActions: runtime.actions.length });
    return seen;
  },
};

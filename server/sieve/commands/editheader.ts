/**
 * addheader and deleteheader (RFC 5293). Received and Auto-Submitted are protected (section 6):
 * changes to them are ignored, as Pigeonhole does. Later tests see the edited header.
 */
import type { CommandDefinition } from '../definition.ts';
import { SieveCompileError } from '../errors.ts';
import { selectIndex } from '../address-part.ts';
import { MATCH_TAGS, matchAny, matchOptions, validateMatch } from '../match.ts';
import { decodeHeaderValue } from '../../mime/encoded-word.ts';

const FIELD_NAME = /^[!-9;-~]+$/;
const PROTECTED = ['received', 'auto-submitted'];

function checkFieldName(value: string, position: { line: number; column: number }): void {
  if (!FIELD_NAME.test(value))
    throw new SieveCompileError(`invalid header field name ${JSON.stringify(value)}`, position);
}

export const addheader: CommandDefinition = {
  kind: 'command',
  name: 'addheader',
  extensions: ['editheader'],
  tags: { last: {} },
  positional: ['string', 'string'],
  validate(node) {
    const name = node.positional[0];
    if (name?.kind === 'string' && !name.value.includes('${')) checkFieldName(name.value, name.position);
  },
  execute(node, runtime) {
    const name = runtime.string(node.positional[0]);
    if (!FIELD_NAME.test(name) || PROTECTED.includes(name.toLowerCase())) return;
    // One line: line breaks in the value would start new fields.
    const text = runtime.string(node.positional[1]).replace(/[\r\n]+/g, ' ');
    const value = Buffer.from(text, 'utf8').toString('latin1');
    const field = { name, value };
    const { headers } = runtime.message;
    if (node.tags.has('last')) headers.push(field);
    else headers.unshift(field);
    runtime.headerEdited = true;
  },
};

export const deleteheader: CommandDefinition = {
  kind: 'command',
  name: 'deleteheader',
  extensions: ['editheader'],
  tags: { ...MATCH_TAGS, index: { argument: 'number' }, last: {} },
  positional: ['string', 'string-list'],
  optional: 1,
  validate(node, context) {
    const name = node.positional[0];
    if (name?.kind === 'string' && !name.value.includes('${')) checkFieldName(name.value, name.position);
    if (node.tags.has('last') && !node.tags.has('index')) {
      throw new SieveCompileError(':last needs :index', node.position);
    }
    validateMatch(node, context, null);
  },
  execute(node, runtime) {
    const name = runtime.string(node.positional[0]).toLowerCase();
    if (PROTECTED.includes(name)) return;
    const { headers } = runtime.message;
    const named = headers.filter((field) => field.name.toLowerCase() === name);
    const candidates = selectIndex(runtime, node, named);
    const patterns = node.positional.length > 1 ? runtime.strings(node.positional[1]) : null;
    const options = matchOptions(node);
    const doomed = candidates.filter(
      (field) =>
        patterns === null || matchAny(runtime, node, options, [decodeHeaderValue(field.value)], patterns),
    );
    if (doomed.length === 0) return;
    runtime.message.headers = headers.filter((field) => !doomed.includes(field));
    runtime.headerEdited = true;
  },
};

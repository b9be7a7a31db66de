/**
 * Outlook's "plain old XML" Autodiscover (MS-OXDSCLI): Outlook POSTs a request naming the address
 * to `https://autodiscover.<domain>/autodiscover/autodiscover.xml` (or the domain itself) and reads
 * the IMAP, POP3 and SMTP settings from the answer. Exchange answers a GET, or a request it cannot
 * read, with an "Invalid Request" error document (code 600); so does this route.
 */
import crypto from 'node:crypto';
import {
  escapeXml,
  type AccountSettings,
  type IncomingEndpoint,
  type OutgoingServer,
} from '../../../renderer/src/components/devices/profiles.ts';
import { notFound, parseAddress, type Route, type WebReply } from '../http.ts';

const PATHS = new Set(['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']);
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

const XML = 'text/xml; charset=utf-8';

/** The text of the first `<Name>` element (any namespace prefix), or null. */
function elementText(body: string, name: string): string | null {
  const match = new RegExp(
    `<(?:[A-Za-z_][\\w.-]*:)?${name}>([^<]{0,400})</(?:[A-Za-z_][\\w.-]*:)?${name}>`,
  ).exec(body);
  return match ? match[1]!.trim() : null;
}

/** MS-OXDSCLI 2.2.4.2.1.11.1: the Error element Exchange sends for a request it cannot serve. */
function errorDocument(code: number, message: string): WebReply {
  const now = new Date();
  const body = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    '  <Response>',
    `    <Error Time="${now.toISOString().slice(11, 23)}" Id="${crypto.randomInt(1, 2 ** 31)}">`,
    `      <ErrorCode>${code}</ErrorCode>`,
    `      <Message>${escapeXml(message)}</Message>`,
    '      <DebugData />',
    '    </Error>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
  return { status: 200, type: XML, body };
}

/** One <Protocol> element: Type, Server, Port, ... in the schema's order. */
function protocol(type: string, hostname: string, login: string, port: number, security: string): string[] {
  const implicit = security === 'ssl';
  return [
    '      <Protocol>',
    `        <Type>${type}</Type>`,
    `        <Server>${escapeXml(hostname)}</Server>`,
    `        <Port>${port}</Port>`,
    '        <DomainRequired>off</DomainRequired>',
    `        <LoginName>${escapeXml(login)}</LoginName>`,
    '        <SPA>off</SPA>',
    // SSL on with Encryption TLS is how Exchange says STARTTLS; SSL is TLS from the first byte.
    `        <SSL>${security === 'none' ? 'off' : 'on'}</SSL>`,
    `        <Encryption>${implicit ? 'SSL' : security === 'none' ? 'None' : 'TLS'}</Encryption>`,
    `        <AuthRequired>on</AuthRequired>`,
    '      </Protocol>',
  ];
}

function settingsDocument(settings: AccountSettings): string {
  const incoming = (endpoint: IncomingEndpoint) =>
    protocol(
      endpoint.protocol.toUpperCase(),
      settings.hostname,
      settings.email,
      endpoint.port,
      endpoint.security,
    );
  const outgoing = (server: OutgoingServer) =>
    protocol('SMTP', server.hostname, server.username || settings.email, server.port, server.security);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    `  <Response xmlns="${OUTLOOK_NS}">`,
    '    <User>',
    `      <DisplayName>${escapeXml(settings.email)}</DisplayName>`,
    `      <AutoDiscoverSMTPAddress>${escapeXml(settings.email)}</AutoDiscoverSMTPAddress>`,
    '    </User>',
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...settings.incoming.flatMap(incoming),
    ...[settings.outgoing, ...(settings.moreOutgoing ?? [])].flatMap(outgoing),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

export const autodiscoverRoute: Route = {
  methods: ['GET', 'POST'],
  matches: (path) => PATHS.has(path),
  async handle(request, context) {
    if (request.method !== 'POST') return errorDocument(600, 'Invalid Request');
    const schema = elementText(request.body, 'AcceptableResponseSchema');
    // Only Outlook's schema: mobile sync (ActiveSync) is not something Mallard speaks.
    if (schema !== OUTLOOK_NS) return errorDocument(600, 'Invalid Request');
    const address = parseAddress(elementText(request.body, 'EMailAddress'));
    if (!address) return errorDocument(600, 'Invalid Request');
    if (!(await context.domains.has(address.domain))) return notFound();
    return { status: 200, type: XML, body: settingsDocument(context.account(address.address)) };
  },
};

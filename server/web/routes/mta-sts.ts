/**
 * The MTA-STS policy (RFC 8461 section 3.2), served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`
 * for each mail domain: senders that find the `_mta-sts.<domain>` TXT record fetch it and then
 * deliver only over TLS to an MX matching the `mx:` lines, whose certificate they verify.
 */
import { domainUnder, notFound, type Route } from '../http.ts';

export const mtaStsRoute: Route = {
  methods: ['GET'],
  matches: (path) => path === '/.well-known/mta-sts.txt',
  async handle(request, context) {
    const domain = domainUnder(request.host, 'mta-sts');
    if (!domain || !(await context.domains.has(domain))) return notFound();
    const { web, hostname } = context.config;
    // CRLF line ends, as the RFC's ABNF writes them; senders accept LF too.
    const body = [
      'version: STSv1',
      `mode: ${web.mta_sts_mode}`,
      `mx: ${hostname}`,
      `max_age: ${web.mta_sts_max_age}`,
      '',
    ].join('\r\n');
    return { status: 200, type: 'text/plain; charset=utf-8', body };
  },
};

/**
 * Thunderbird autoconfig (config-v1.1.xml): Thunderbird asks
 * `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…` and then
 * `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=…`. Both answer the
 * same file, built by the panel's profile builder from the listeners in force.
 */
import { thunderbirdAutoconfig } from '../../../renderer/src/components/devices/profiles.ts';
import { badRequest, domainUnder, notFound, parseAddress, type Route } from '../http.ts';

const WELL_KNOWN = '/.well-known/autoconfig/mail/config-v1.1.xml';
const ON_AUTOCONFIG_HOST = '/mail/config-v1.1.xml';

export const autoconfigRoute: Route = {
  methods: ['GET'],
  matches: (path) => path === WELL_KNOWN || path === ON_AUTOCONFIG_HOST,
  async handle(request, context) {
    const hostDomain = request.path === WELL_KNOWN ? request.host : domainUnder(request.host, 'autoconfig');
    if (!hostDomain) return notFound();
    const given = request.query.get('emailaddress');
    const address = parseAddress(given);
    if (given !== null && !address) return badRequest('emailaddress is not an e-mail address');
    // Without an address Thunderbird still learns the servers; the user name stays a placeholder.
    const domain = address?.domain ?? hostDomain;
    if (!(await context.domains.has(domain))) return notFound();
    const settings = context.account(address?.address ?? `%EMAILLOCALPART%@${domain}`);
    return { status: 200, type: 'application/xml; charset=utf-8', body: thunderbirdAutoconfig(settings) };
  },
};

/**
 * An Apple configuration profile for one address: `/apple/mobileconfig?emailaddress=…`, opened in
 * Safari on the phone (or Mac). The panel's Connect a device page builds the same profile; here
 * it is signed with the server certificate when it can be (sign.ts). It never holds a password:
 * the device asks for it on installation. Whether the address has an account is not checked, so
 * the route cannot be used to learn which accounts exist; only the domain must be ours.
 */
import crypto from 'node:crypto';
import { mobileconfig, safeFileName } from '../../../renderer/src/components/devices/profiles.ts';
import { badRequest, notFound, parseAddress, type Route } from '../http.ts';
import { signProfile } from '../sign.ts';

export const mobileconfigRoute: Route = {
  methods: ['GET'],
  matches: (path) => path === '/apple/mobileconfig',
  async handle(request, context) {
    const address = parseAddress(request.query.get('emailaddress'));
    if (!address) return badRequest('emailaddress=… with an e-mail address is required');
    if (!(await context.domains.has(address.domain))) return notFound();
    const settings = context.account(address.address);
    const hasImap = settings.incoming.some((endpoint) => endpoint.protocol === 'imap');
    const hasPop3 = settings.incoming.some((endpoint) => endpoint.protocol === 'pop3');
    if (!hasImap && !hasPop3) return notFound();
    const profile = mobileconfig({
      account: settings,
      accountType: hasImap ? 'imap' : 'pop3',
      uuid: () => crypto.randomUUID().toUpperCase(),
    });
    const signed = signProfile(profile, context.tls.currentPair());
    return {
      status: 200,
      // The media type Apple serves profiles with, signed (DER CMS) or not (XML).
      type: 'application/x-apple-aspen-config',
      body: signed ?? profile,
      headers: {
        // Safari offers a profile for installation whatever its media type, given this file name.
        'content-disposition': `attachment; filename="${safeFileName(address.address)}.mobileconfig"`,
      },
    };
  },
};

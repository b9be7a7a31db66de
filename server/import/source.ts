/** The connection to the source server (imapflow), with its security mode spelled as the CLI takes it. */
import { ImapFlow } from 'imapflow';

export type Security = 'tls' | 'starttls' | 'plain';

export interface SourceAccount {
  host: string;
  port: number;
  security: Security;
  login: string;
  password: string;
  /** False only for a test source with a certificate of its own; a real provider is checked. */
  verifyCertificate?: boolean;
}

/** The name progress is remembered under: the same account on the same server is the same source. */
export function sourceName(account: SourceAccount): string {
  return `${account.login}@${account.host.toLowerCase()}:${account.port}`;
}

export function defaultPort(security: Security): number {
  return security === 'tls' ? 993 : 143;
}

export async function connectSource(account: SourceAccount): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    // STARTTLS asked for is required: the password must not cross in the clear by a downgrade.
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'plain' ? false : undefined,
    auth: { user: account.login, pass: account.password },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: account.verifyCertificate !== false, servername: account.host },
  });
  try {
    await client.connect();
  } catch (error) {
    const failure = error as Error & { authenticationFailed?: boolean; responseText?: string };
    if (failure.authenticationFailed)
      throw new Error(
        `the source refused the login ${account.login}: ${failure.responseText ?? failure.message}`,
      );
    throw new Error(`cannot connect to ${account.host}:${account.port}: ${failure.message}`);
  }
  return client;
}

/**
 * A check whose module loads with the first message it looks at. Every worker of a server builds
 * the checks of port 25, but most of them only ever hold IMAP sessions: sender authentication alone
 * is mailauth with joi, its MIME and charset tables (some 70 modules), paid per process for nothing.
 */
import type { CheckOutcome, InboundCheck, InboundMessage } from './types.ts';

export function lazyCheck(name: string, load: () => Promise<InboundCheck>): InboundCheck {
  let loaded: Promise<InboundCheck> | null = null;
  return {
    name,
    async check(message: InboundMessage, earlier: ReadonlyMap<string, CheckOutcome>) {
      // A failed load is tried again with the next message (the engine logs and skips this one).
      loaded ??= load().catch((error: unknown) => {
        loaded = null;
        throw error;
      });
      return (await loaded).check(message, earlier);
    },
  };
}

/**
 * What submission hands remote recipients to: the message is DKIM-signed for the sender's domain
 * (when a key applies), queued durably in the store, and the delivery worker is woken so it does
 * not wait for its next poll.
 */
import type { OutboundSink } from '../submission/deliver.ts';
import type { NewOutboundMessage, OutboundMessage } from '../store/outbound.ts';
import type { Store } from '../store/types.ts';

export interface Signer {
  /** The message with a DKIM-Signature on top, or as it was when no key applies. */
  sign(raw: Buffer, sender: string): Promise<Buffer>;
}

export function queueSink(store: Store, signer: Signer | null, wake: () => void): OutboundSink {
  return {
    async submit(message: NewOutboundMessage): Promise<OutboundMessage> {
      const raw = signer ? await signer.sign(message.raw, message.sender) : message.raw;
      const queued = await store.enqueueOutbound({ ...message, raw });
      wake();
      return queued;
    },
  };
}

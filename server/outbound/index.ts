/**
 * Sending, put together: the resolver on `dns.servers`, DKIM keys in the data directory, the
 * delivery worker, and the sink submission queues into.
 */
import type { Config } from '../config/schema.ts';
import { MailResolver } from '../dns/resolver.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { OutboundSink } from '../submission/deliver.ts';
import { DkimKeys, dkimSigner } from './dkim.ts';
import { MtaSts } from './mta-sts.ts';
import { retryPolicyOf } from './retry.ts';
import { queueSink } from './sink.ts';
import { OutboundWorker } from './worker.ts';

export interface Outbound {
  worker: OutboundWorker;
  sink: OutboundSink;
  dkim: DkimKeys;
}

export function startOutbound(services: { config: Config; store: Store; logger: Logger }): Outbound {
  const { config, store, logger } = services;
  const resolver = new MailResolver(config.dns.servers);
  const sts = config.outbound.mta_sts;
  const worker = new OutboundWorker({
    store,
    config,
    logger,
    resolver,
    policy: retryPolicyOf(config.outbound),
    mtaSts: sts.enabled
      ? new MtaSts(
          { servers: config.dns.servers, port: sts.policy_port, caFile: sts.ca_file },
          resolver,
          logger.child({ component: 'mta-sts' }),
          store,
        )
      : null,
  });
  const dkim = new DkimKeys(config.data_dir, config.dkim.selector);
  // Signs for local domains whose DKIM switch is on (`mallard domain set NAME --dkim off` stops it).
  const signsFor = async (domain: string) => (await store.getDomain(domain.toLowerCase()))?.dkim === true;
  const signer = config.dkim.enabled ? dkimSigner(dkim, signsFor, logger) : null;
  worker.start();
  return { worker, sink: queueSink(store, signer, () => worker.wake()), dkim };
}

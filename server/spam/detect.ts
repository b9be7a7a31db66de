/**
 * Finds an rspamd to scan with, for the panel's "Detect" button: the URLs given (what the user
 * typed), else rspamd's default local ports (the normal worker on 11333, the controller on 11334,
 * as Debian's package sets them up). Each candidate is asked for /ping; rspamd answers "pong" with
 * its version in the Server field. The controller is told from the scanning worker by /stat, which
 * only the controller answers; the controller also gives rspamd's own action thresholds.
 */
export const DEFAULT_SCAN_URL = 'http://127.0.0.1:11333';
export const DEFAULT_CONTROLLER_URL = 'http://127.0.0.1:11334';

const PROBE_TIMEOUT_MS = 2000;

export interface RspamdFound {
  found: boolean;
  /** The scanning worker (spam.rspamd_url), "" when none answered. */
  scanUrl: string;
  /** The controller (spam.rspamd_controller_url), "" when none answered. */
  controllerUrl: string;
  version: string;
  /** rspamd's own thresholds by action ("reject", "add header", "greylist"), from its controller. */
  actions: Record<string, number>;
  /** One sentence for the user: what was found where, or what was tried. */
  detail: string;
}

interface Answer {
  version: string;
  controller: boolean;
  actions: Record<string, number>;
}

async function get(url: string): Promise<Response | null> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'error' });
  } catch {
    return null;
  }
}

/** What answers at `base`: an rspamd worker (its version, whether it is the controller) or nothing. */
async function probe(base: string): Promise<Answer | null> {
  const ping = await get(`${base}/ping`);
  if (!ping || !ping.ok || (await ping.text()).trim() !== 'pong') return null;
  const version = /^rspamd\/(\S+)/i.exec(ping.headers.get('server') ?? '')?.[1];
  if (!version) return null;
  const stat = await get(`${base}/stat`);
  const controller = stat?.ok === true;
  const actions: Record<string, number> = {};
  if (controller) {
    const list = await get(`${base}/actions`);
    const parsed = list?.ok
      ? ((await list.json().catch(() => [])) as Array<{ action: string; value: number | null }>)
      : [];
    for (const { action, value } of Array.isArray(parsed) ? parsed : []) {
      if (typeof value === 'number') actions[action] = value;
    }
  }
  return { version, controller, actions };
}

/** The same URL with the next port number, or null without an explicit port. */
function nextPort(base: string): string | null {
  const url = new URL(base);
  if (!url.port) return null;
  url.port = String(Number(url.port) + 1);
  return trimmed(url.toString());
}

const trimmed = (url: string) => url.trim().replace(/\/+$/, '');

export async function detectRspamd(
  given: { url?: string; controllerUrl?: string } = {},
): Promise<RspamdFound> {
  const candidates = [given.url, given.controllerUrl].map((url) => trimmed(url ?? '')).filter(Boolean);
  const tried = candidates.length > 0 ? candidates : [DEFAULT_SCAN_URL, DEFAULT_CONTROLLER_URL];
  let scanUrl = '';
  let controllerUrl = '';
  let version = '';
  let actions: Record<string, number> = {};
  for (const base of tried) {
    const answer = await probe(base);
    if (!answer) continue;
    version ||= answer.version;
    if (answer.controller && !controllerUrl) {
      controllerUrl = base;
      actions = answer.actions;
    } else if (!answer.controller && !scanUrl) scanUrl = base;
  }
  // rspamd's controller listens next to its scanning worker (11333, 11334) unless moved.
  const neighbour = scanUrl && !controllerUrl ? nextPort(scanUrl) : null;
  const beside = neighbour ? await probe(neighbour) : null;
  if (neighbour && beside?.controller) {
    controllerUrl = neighbour;
    actions = beside.actions;
  }
  if (!scanUrl && !controllerUrl) {
    return {
      found: false,
      scanUrl,
      controllerUrl,
      version,
      actions,
      detail: `No rspamd answered at ${tried.join(' or ')}`,
    };
  }
  const where = [scanUrl && `scanning at ${scanUrl}`, controllerUrl && `controller at ${controllerUrl}`];
  const missing = !scanUrl
    ? ' (no scanning worker: give its URL, usually port 11333)'
    : !controllerUrl
      ? ' (no controller: learning from Junk needs it, usually port 11334)'
      : '';
  return {
    found: scanUrl !== '',
    scanUrl,
    controllerUrl,
    version,
    actions,
    detail: `rspamd ${version}: ${where.filter(Boolean).join(', ')}${missing}`,
  };
}

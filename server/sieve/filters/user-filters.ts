/**
 * A user's filter settings in the store: read from the managed script, written as it (stored and
 * made active), and the messages a dry run looks at. Shared by the admin API and the CLI's
 * store backend, so both refuse the same things.
 *
 * The managed script replaces the active one, so it must never silently replace a script the user
 * wrote: when another script is active, or the managed one was edited by hand since, saving is
 * refused (FiltersConflict) unless the caller says `overwrite` (the page asks first). The other
 * script is left stored: activating it again (ManageSieve, `mallard sieve activate`) brings it back.
 */
import type { Store, User } from '../../store/types.ts';
import { dryRun, type DryRunResult } from './dry-run.ts';
import { generateScript, MANAGED_SCRIPT_NAME, readScript } from './generate.ts';
import { EMPTY_SETTINGS, type FilterSettings } from './model.ts';

export type FiltersState =
  /** No managed script and no other active script. */
  | 'none'
  /** The managed script is active and is what the settings generate. */
  | 'managed'
  /** The managed script was changed by hand since it was generated. */
  | 'edited'
  /** Another script (written by hand) is active; the settings are not in force. */
  | 'other-script';

export interface UserFilters {
  settings: FilterSettings;
  state: FiltersState;
  /** The active script's name, whichever it is. */
  activeScript: string | null;
}

export class FiltersConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FiltersConflict';
  }
}

export async function loadFilters(store: Store, user: User): Promise<UserFilters> {
  const active = await store.getActiveSieveScript(user.id);
  const managed = await store.getSieveScript(user.id, MANAGED_SCRIPT_NAME);
  const origin = managed === null ? null : readScript(managed.content);
  const settings = origin !== null && origin.kind !== 'hand-written' ? origin.settings : EMPTY_SETTINGS;
  const activeScript = active?.name ?? null;
  if (active !== null && active.name !== MANAGED_SCRIPT_NAME)
    return { settings, state: 'other-script', activeScript };
  if (origin === null) return { settings, state: 'none', activeScript };
  return { settings, state: origin.kind === 'generated' ? 'managed' : 'edited', activeScript };
}

export async function saveFilters(
  store: Store,
  user: User,
  settings: FilterSettings,
  overwrite = false,
): Promise<UserFilters> {
  const current = await loadFilters(store, user);
  if (!overwrite && current.state === 'other-script')
    throw new FiltersConflict(
      `the active Sieve script "${current.activeScript}" was written by hand; saving the filters would replace it (say overwrite to do so)`,
    );
  if (!overwrite && current.state === 'edited')
    throw new FiltersConflict(
      `the "${MANAGED_SCRIPT_NAME}" script was edited by hand since the filters were saved; saving would undo those edits (say overwrite to do so)`,
    );
  await store.putSieveScript(user.id, MANAGED_SCRIPT_NAME, generateScript(settings));
  await store.activateSieveScript(user.id, MANAGED_SCRIPT_NAME);
  return { settings, state: 'managed', activeScript: MANAGED_SCRIPT_NAME };
}

/** Changes one part of the settings (forwarding, vacation) and saves. */
export async function updateFilters(
  store: Store,
  user: User,
  change: Partial<FilterSettings>,
  overwrite = false,
): Promise<UserFilters> {
  const { settings } = await loadFilters(store, user);
  return saveFilters(store, user, { ...settings, ...change }, overwrite);
}

/** The user's last `limit` INBOX messages, newest first, through the settings or a script. */
export async function testFilters(
  store: Store,
  user: User,
  source: { settings: FilterSettings } | { script: string },
  limit: number,
  now = new Date(),
): Promise<DryRunResult[]> {
  const inbox = await store.getMailbox(user.id, 'INBOX');
  if (inbox === null) return [];
  const { uids, count } = await store.listFlags(inbox.id, 2 ** 32 - 1);
  if (count === 0) return [];
  const from = uids[Math.max(0, count - limit)]!;
  const summaries = await store.listMessages(inbox.id, { uids: [{ from, to: uids[count - 1]! }] });
  const bodies = await store.readBlobs(summaries.map((summary) => summary.blobId));
  const messages = summaries.reverse().flatMap((summary) => {
    const raw = bodies.get(summary.blobId);
    return raw === undefined ? [] : [{ uid: summary.uid, raw }];
  });
  return dryRun(source, messages, user.username, now);
}

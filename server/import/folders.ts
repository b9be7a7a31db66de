/**
 * Which source folders are imported, and under which name here. Special folders (RFC 6154
 * special-use, else Gmail's well-known `[Gmail]/…` names) land in ours (Sent, Drafts, …); every
 * other folder keeps its hierarchy, the source's delimiter turned into ours ("/"). Gmail's
 * `All Mail` holds every message again (labels are views of it), so it is skipped unless asked
 * for; `Starred` and `Important` are views too and always skipped.
 */
import type { SpecialUse } from '../store/types.ts';

/** What the source lists of a folder (imapflow's ListResponse, the part we read). */
export interface SourceFolder {
  /** The name decoded to UTF-8 (imapflow decodes modified UTF-7). */
  path: string;
  delimiter: string | null;
  flags: ReadonlySet<string>;
  specialUse?: string | null;
}

export type FolderPlan =
  | { source: string; action: 'import'; target: string; specialUse: SpecialUse | null }
  /** `quiet`: a level of the hierarchy, no mail to report as skipped. */
  | { source: string; action: 'skip'; reason: string; quiet?: boolean };

const OURS: Record<SpecialUse, string> = {
  '\\Sent': 'Sent',
  '\\Drafts': 'Drafts',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
};

/** Gmail's names (also "[Google Mail]" in some countries), for a server that lists no special-use. */
const GMAIL_NAMES: Record<string, string> = {
  'sent mail': '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  bin: '\\Trash',
  spam: '\\Junk',
  'all mail': '\\All',
  starred: '\\Flagged',
  important: '\\Important',
};

function specialUseOf(folder: SourceFolder): string | null {
  if (folder.specialUse) return folder.specialUse;
  const gmail = /^\[(?:Gmail|Google Mail)\][/.](.+)$/i.exec(folder.path);
  return gmail ? (GMAIL_NAMES[gmail[1]!.toLowerCase()] ?? null) : null;
}

/** The folder's path with our delimiter; a "/" inside one name becomes "_" so it is no level. */
export function targetPath(path: string, delimiter: string | null): string {
  if (path.toUpperCase() === 'INBOX') return 'INBOX';
  const parts = delimiter ? path.split(delimiter) : [path];
  return parts.map((part) => part.replaceAll('/', '_')).join('/');
}

export interface PlanOptions {
  /** Only these source folders (as the source names them), when given. */
  only?: readonly string[];
  includeAllMail?: boolean;
}

export function planFolder(folder: SourceFolder, options: PlanOptions = {}): FolderPlan {
  const source = folder.path;
  if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent'))
    return { source, action: 'skip', reason: 'not selectable (a level of the hierarchy)', quiet: true };
  const special = specialUseOf(folder);
  if (special === '\\All' && !options.includeAllMail)
    return { source, action: 'skip', reason: 'All Mail: every message is in another folder too' };
  if (special === '\\Flagged' || special === '\\Important')
    return { source, action: 'skip', reason: `${special}: a view of messages kept in other folders` };
  if (special !== null && special in OURS) {
    const use = special as SpecialUse;
    return { source, action: 'import', target: OURS[use], specialUse: use };
  }
  return { source, action: 'import', target: targetPath(source, folder.delimiter), specialUse: null };
}

/** The plan for every listed folder, narrowed to `only` when given (unknown names are an error). */
export function planFolders(folders: readonly SourceFolder[], options: PlanOptions = {}): FolderPlan[] {
  const only = options.only;
  if (only) {
    const listed = new Set(folders.map((folder) => folder.path));
    const missing = only.filter((name) => !listed.has(name));
    if (missing.length > 0) throw new Error(`no such folder at the source: ${missing.join(', ')}`);
  }
  return folders
    .filter((folder) => !only || only.includes(folder.path))
    .map((folder) => planFolder(folder, { ...options, includeAllMail: options.includeAllMail || !!only }));
}

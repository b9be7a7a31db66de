/**
 * The actions a script asks for (RFC 5228 section 2.10 and the extensions). The interpreter only
 * collects them; delivery performs them once the script has finished without error.
 */
export interface StoreAction {
  type: 'keep' | 'fileinto';
  /** "INBOX" for keep. */
  mailbox: string;
  flags: string[];
  /** RFC 5490 :create: make the mailbox when it is missing. */
  create: boolean;
  /** RFC 8579 :specialuse: file into the mailbox with this special use when there is one. */
  specialUse: string | null;
}

export interface RedirectAction {
  type: 'redirect';
  address: string;
}

export interface RejectAction {
  type: 'reject';
  reason: string;
  /** ereject: refuse in the SMTP/LMTP dialogue only, never with a bounce message (RFC 5429 2.1). */
  extended: boolean;
}

export interface DiscardAction {
  type: 'discard';
}

export interface VacationAction {
  type: 'vacation';
  reason: string;
  subject: string | null;
  from: string | null;
  /** The user's other addresses (:addresses), besides the recipient. */
  addresses: string[];
  mime: boolean;
  /** Identifies the reply for the memory of whom was answered (RFC 5230 4.2). */
  handle: string;
  /** Do not answer the same sender again for this long. */
  seconds: number;
}

export type SieveAction = StoreAction | RedirectAction | RejectAction | DiscardAction | VacationAction;

export interface SieveResult {
  /** Explicit actions in the order the script gave them (duplicates merged, RFC 5228 2.10.3). */
  actions: SieveAction[];
  /** The implicit keep when it was not cancelled, with the flags it files with; null when cancelled. */
  implicitKeep: { flags: string[] } | null;
  /** Set when the script failed at run time: then actions is [] and the implicit keep applies. */
  error: string | null;
  /** Whether editheader changed the header (delivery then stores the edited message). */
  headerEdited: boolean;
  /** Duplicate ids (RFC 7352) to remember once the delivery succeeded. */
  duplicates: { id: string; seconds: number; afterActions: number }[];
}

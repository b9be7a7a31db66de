/**
 * The seam between the SMTP engine and the checks run on a message received on port 25: sender
 * authentication (SPF, DKIM, DMARC, ARC: server/inbound/auth/) and spam scoring (server/spam/)
 * each are an `InboundCheck`. The engine calls `assessMessage` (assess.ts) at the end of DATA,
 * before any 250, and honours the verdict: 'reject' sends `reply`, 'junk' files the copies into
 * each recipient's Junk mailbox, and every stored copy gets `prependHeaders` on top.
 */
import type { Reply } from '../smtp/replies.ts';

/** What the engine knows of a message when DATA ends. */
export interface InboundMessage {
  /** The SMTP client's IP address. */
  clientIp: string;
  /** The name the client gave in HELO/EHLO ("" when none). */
  helo: string;
  /** The client's reverse-DNS name ("" when none was found). */
  reverseName: string;
  /** MAIL FROM ("" is the null sender). */
  mailFrom: string;
  rcpts: string[];
  /** The message as received (dot-unstuffed, otherwise untouched). */
  message: Buffer;
  /** Whether the client used TLS. */
  secure: boolean;
  /** Names this transaction in logs. */
  transactionId: string;
}

export type InboundAction = 'accept' | 'junk' | 'reject';

/** What one check concluded; every field is optional ("nothing to say" is `{}`). */
export interface CheckOutcome {
  /** Header fields to put on top of each stored copy, each ending with CRLF. */
  headers?: string;
  /** 'junk' or 'reject' raise the verdict; 'accept' (or nothing) leaves it as it is. */
  action?: InboundAction;
  /** The reply for 'reject' (default 550 5.7.1). */
  reply?: Reply;
  /** Why, in words for the log and the admin API: "dmarc=fail policy=reject (from example.com)". */
  reasons?: string[];
  /** The message to hand to later checks and to store instead (e.g. forged header fields removed). */
  message?: Buffer;
  /**
   * When the action differs by recipient (a user's allow or block list): each recipient's, by the
   * address as given at RCPT. `action` is then the strongest of them, and 'reject' is never given
   * for one recipient only (one reply at the end of DATA covers them all).
   */
  recipientActions?: ReadonlyMap<string, InboundAction>;
  /** Facts later checks may use (the spam scorer reads the authentication results), by check name. */
  facts?: Record<string, unknown>;
}

export interface InboundCheck {
  /** Short, stable: "auth", "spam". */
  readonly name: string;
  /**
   * Looks at the message. `earlier` has the outcomes of the checks that ran before, by name.
   * A check that cannot decide (DNS down) says so in its reasons rather than throwing; a throw is
   * logged and the check is skipped (mail is not lost because a check broke).
   */
  check(message: InboundMessage, earlier: ReadonlyMap<string, CheckOutcome>): Promise<CheckOutcome>;
}

export interface InboundVerdict {
  action: InboundAction;
  /** Header fields for the top of each stored copy, each ending with CRLF ("" for none). */
  prependHeaders: string;
  /** For 'reject': what the client is told. */
  reply?: Reply;
  reasons: string[];
  /** The message to store (the received one, less what a check removed). */
  message: Buffer;
  /**
   * Where a check's action differed by recipient: each recipient's action ('accept' or 'junk'),
   * the strongest of every check's for it. Absent: every copy follows `action`.
   */
  recipientActions?: Map<string, InboundAction>;
}

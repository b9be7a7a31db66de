/**
 * The Filters page's model, Gmail's shape: ordered filters (conditions → actions), forwarding and a
 * vacation reply. It is stored as generated Sieve (generate.ts), never as a table of its own, so
 * ManageSieve clients, `mallard sieve` and delivery all see one thing: the user's active script.
 */
import { z } from 'zod';

/** A text a condition looks for: not empty, one line (Sieve strings may hold anything, the page not). */
const needle = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(500)
  .refine((text) => !/[\r\n]/.test(text), 'must be one line');

const address = z.email('must be an email address').max(320);

/** Every condition given must hold (Gmail's "all of"); at least one is required. */
export const filterConditionsSchema = z
  .strictObject({
    from: needle.optional().describe('the From address contains this'),
    to: needle.optional().describe('a To or Cc address contains this'),
    subject: needle.optional().describe('the Subject contains this'),
    hasWords: needle.optional().describe('the text of the message contains this'),
    doesNotHave: needle.optional().describe('the text of the message does not contain this'),
    largerThan: z
      .int()
      .min(1)
      .max(2 ** 31)
      .optional()
      .describe('size over this many bytes'),
    smallerThan: z
      .int()
      .min(1)
      .max(2 ** 31)
      .optional()
      .describe('size under this many bytes'),
    hasAttachment: z.boolean().optional().describe('a part is marked as an attachment'),
    listId: needle.optional().describe('the List-Id contains this'),
  })
  // hasAttachment: false is a condition too ("has no attachment").
  .refine(
    (conditions) => Object.values(conditions).some((value) => value !== undefined),
    'a filter needs at least one condition',
  );

export const filterActionsSchema = z
  .strictObject({
    skipInbox: z.boolean().optional().describe('archive: not kept in INBOX'),
    markRead: z.boolean().optional(),
    star: z.boolean().optional().describe('set the \\Flagged flag'),
    label: needle.optional().describe('file into this folder (made when missing)'),
    forward: address.optional().describe('send a copy to this address'),
    delete: z.boolean().optional().describe('discard the message and stop'),
    neverSpam: z.boolean().optional().describe('keep in INBOX even when a spam check said Junk'),
    stop: z.boolean().optional().describe('do not run the filters after this one'),
  })
  .refine(
    (actions) => Object.values(actions).some((value) => value !== undefined && value !== false),
    'a filter needs at least one action',
  );

export const filterSchema = z.strictObject({
  name: z.string().max(200).optional().describe('a label for the list; not used by the script'),
  conditions: filterConditionsSchema,
  actions: filterActionsSchema,
});

export const forwardingSchema = z.strictObject({
  address,
  keepCopy: z.boolean().describe('also keep the message here (else it is only forwarded)'),
});

const day = z.iso.date('must be a date (YYYY-MM-DD)');

export const vacationSchema = z
  .strictObject({
    subject: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(500)
      .refine((text) => !/[\r\n]/.test(text), 'must be one line'),
    body: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64 * 1024),
    from: day.optional().describe('first day of the absence (server time), inclusive'),
    until: day.optional().describe('last day of the absence (server time), inclusive'),
    days: z
      .int()
      .min(1)
      .max(365)
      .default(7)
      .describe('answer the same sender at most once in this many days'),
    addresses: z.array(address).max(50).default([]).describe('other addresses of the user'),
  })
  .refine((vacation) => !vacation.from || !vacation.until || vacation.from <= vacation.until, {
    message: 'the last day is before the first',
    path: ['until'],
  });

export const filterSettingsSchema = z.strictObject({
  filters: z.array(filterSchema).max(500).default([]),
  forwarding: forwardingSchema.nullable().default(null),
  vacation: vacationSchema.nullable().default(null),
});

export type FilterConditions = z.infer<typeof filterConditionsSchema>;
export type FilterActions = z.infer<typeof filterActionsSchema>;
export type Filter = z.infer<typeof filterSchema>;
export type Forwarding = z.infer<typeof forwardingSchema>;
export type Vacation = z.infer<typeof vacationSchema>;
export type FilterSettings = z.infer<typeof filterSettingsSchema>;
/** What callers write: defaults may be left out. */
export type FilterSettingsInput = z.input<typeof filterSettingsSchema>;

export const EMPTY_SETTINGS: FilterSettings = { filters: [], forwarding: null, vacation: null };

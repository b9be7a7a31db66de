/**
 * The benchmark corpus: deterministic (seeded) messages of about 10 KB, each with its own
 * Message-ID, subject and random words, a fifth of them multipart/alternative, and the word
 * "needle" in every hundredth one (the SEARCH workload counts them). Both servers get the same bytes.
 */

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NEEDLE = 'needle';

/** Every NEEDLE_EVERY-th message (offset NEEDLE_OFFSET) contains the needle once or twice. */
const NEEDLE_EVERY = 100;
const NEEDLE_OFFSET = 37;

function makeWords(random: () => number, count: number): string[] {
  const onsets = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z'];
  const onsetsMore = ['br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'qu', 'sh', 'st', 'th', 'tr'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou', 'y'];
  const codas = ['', '', '', 'n', 'r', 's', 't', 'l', 'm', 'ck', 'nd', 'st'];
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const words = new Set<string>();
  while (words.size < count) {
    const syllables = 1 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < syllables; i++) {
      word += (random() < 0.3 ? pick(onsetsMore) : pick(onsets)) + pick(vowels) + pick(codas);
    }
    if (!word.includes(NEEDLE.slice(0, 4))) words.add(word);
  }
  return [...words];
}

export interface CorpusOptions {
  count: number;
  /** Approximate size of each message in bytes (±10 %). */
  size?: number;
  seed?: number;
}

export interface Corpus {
  messages: Buffer[];
  totalBytes: number;
  /** How many messages contain NEEDLE (what SEARCH TEXT should find). */
  needleCount: number;
  /** Whether message i contains NEEDLE. */
  hasNeedle: boolean[];
}

export function makeCorpus(options: CorpusOptions): Corpus {
  const random = seededRandom(options.seed ?? 20_251_128);
  const words = makeWords(random, 3000);
  const names = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy'];
  const target = options.size ?? 10 * 1024;
  const messages: Buffer[] = [];
  let totalBytes = 0;
  let needleCount = 0;
  const needles: boolean[] = [];
  const word = () => words[Math.floor(random() * words.length)]!;
  const phrase = (n: number) => Array.from({ length: n }, word).join(' ');

  for (let index = 0; index < options.count; index++) {
    const hasNeedle = index % NEEDLE_EVERY === NEEDLE_OFFSET;
    if (hasNeedle) needleCount++;
    needles.push(hasNeedle);
    const multipart = index % 5 === 3;
    const from = names[index % names.length]!;
    const to = names[(index * 7 + 3) % names.length]!;
    const date = new Date(Date.UTC(2025, 0, 1) + index * 61_000).toUTCString().replace('GMT', '+0000');
    const header =
      `Return-Path: <${from.toLowerCase()}@example.org>\r\n` +
      `From: ${from} <${from.toLowerCase()}@example.org>\r\n` +
      `To: ${to} <bench@example.test>\r\n` +
      `Subject: ${phrase(3 + Math.floor(random() * 5))}\r\n` +
      `Date: ${date}\r\n` +
      `Message-ID: <bench.${index}.${Math.floor(random() * 1e9)}@example.org>\r\n` +
      `MIME-Version: 1.0\r\n`;
    const size = Math.round(target * (0.9 + random() * 0.2));
    const bodyBudget = size - header.length - (multipart ? 400 : 60);
    const lines: string[] = [];
    let length = 0;
    const textBudget = multipart ? Math.floor(bodyBudget / 2) : bodyBudget;
    while (length < textBudget) {
      const line = phrase(6 + Math.floor(random() * 8));
      lines.push(line);
      length += line.length + 2;
    }
    if (hasNeedle) {
      const at = Math.floor(random() * lines.length);
      const parts = lines[at]!.split(' ');
      parts.splice(Math.floor(random() * parts.length), 0, NEEDLE);
      lines[at] = parts.join(' ');
    }
    const text = lines.join('\r\n') + '\r\n';
    let message: string;
    if (multipart) {
      const boundary = `=_bench_${index}_${Math.floor(random() * 1e9)}`;
      // Whole lines only, so that no bare CR or LF appears (servers that store LF endings would
      // change such bytes, and the FETCH byte counts would no longer compare).
      const htmlBudget = Math.max(200, bodyBudget - text.length);
      let html = '<html><body>\r\n';
      for (const line of lines) {
        if (html.length + line.length + 9 > htmlBudget) break;
        html += `<p>${line}</p>\r\n`;
      }
      html += '</body></html>\r\n';
      message =
        header +
        `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n` +
        `This is a multi-part message in MIME format.\r\n` +
        `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` +
        text +
        `--${boundary}\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` +
        html +
        `--${boundary}--\r\n`;
    } else {
      message =
        header +
        `Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` +
        text;
    }
    const bytes = Buffer.from(message, 'latin1');
    messages.push(bytes);
    totalBytes += bytes.length;
  }
  return { messages, totalBytes, needleCount, hasNeedle: needles };
}

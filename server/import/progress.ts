/**
 * The import's progress as a person reads it: messages and bytes done of those to do, rate and
 * ETA, printed at most once a second (and at the end), plus the list of what was skipped and why.
 */
export interface Skipped {
  folder: string;
  uid: number | null;
  reason: string;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export class Progress {
  private readonly started = Date.now();
  private lastPrinted = 0;
  totalMessages = 0;
  totalBytes = 0;
  doneMessages = 0;
  doneBytes = 0;
  imported = 0;
  importedBytes = 0;
  duplicates = 0;
  readonly skipped: Skipped[] = [];

  constructor(private readonly print: (line: string) => void) {}

  /** Adds what a folder has to import to the totals (known once the folder is opened). */
  expect(messages: number, bytes: number): void {
    this.totalMessages += messages;
    this.totalBytes += bytes;
  }

  done(size: number, outcome: 'imported' | 'duplicate' | 'skipped'): void {
    this.doneMessages += 1;
    this.doneBytes += size;
    if (outcome === 'imported') {
      this.imported += 1;
      this.importedBytes += size;
    }
    if (outcome === 'duplicate') this.duplicates += 1;
    if (Date.now() - this.lastPrinted >= 1000) this.printLine();
  }

  skip(entry: Skipped): void {
    this.skipped.push(entry);
  }

  printLine(): void {
    this.lastPrinted = Date.now();
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.doneBytes / seconds : 0;
    const eta = rate > 0 ? (this.totalBytes - this.doneBytes) / rate : Number.POSITIVE_INFINITY;
    this.print(
      `progress: ${this.doneMessages}/${this.totalMessages} messages, ` +
        `${megabytes(this.doneBytes)}/${megabytes(this.totalBytes)}, ` +
        `${(this.doneMessages / Math.max(seconds, 0.001)).toFixed(1)} msg/s, ETA ${duration(eta)}`,
    );
  }

  /** The closing report: counts, then each skipped message or folder with its reason. */
  report(): string[] {
    const lines = [
      `imported ${this.imported} messages (${megabytes(this.importedBytes)}), ` +
        `${this.duplicates} already here, ${this.skipped.length} skipped`,
    ];
    for (const entry of this.skipped) {
      lines.push(`skipped: ${entry.folder}${entry.uid === null ? '' : ` uid ${entry.uid}`}: ${entry.reason}`);
    }
    return lines;
  }
}

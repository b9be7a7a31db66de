/**
 * The message a BURL transaction (RFC 4468) builds piece by piece: each BURL adds the bytes its
 * URL names, and the one marked LAST hands the whole to the submission path. A transaction reset
 * (RSET, EHLO, MAIL after a message, or a failed piece) forgets the pieces.
 */
export class MessageChunks {
  private chunks: Buffer[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  get started(): boolean {
    return this.chunks.length > 0;
  }

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The message so far, and a fresh start. */
  take(): Buffer {
    const message = Buffer.concat(this.chunks, this.bytes);
    this.clear();
    return message;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}

/**
 * Bytes across a worker boundary (the IMAP parse workers, the embedded store's threads): structured
 * clone turns a Buffer into a plain Uint8Array and copies its whole backing store, so the sender
 * packs bytes with `transferable` and the receiver unpacks them with `asBuffer`.
 */

/** A Uint8Array that came through structured clone (or a transfer) as a Buffer, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The bytes of `bytes` in an ArrayBuffer of their own, to transfer rather than clone. When the
 * sender `owned` them and they fill their whole ArrayBuffer they are given as is (no copy; the
 * sender must not use them again). Otherwise exactly their bytes are copied once: cloning would copy
 * the whole backing store, which for a small Buffer is Node's shared 8 KiB pool or a large read.
 */
export function transferable(bytes: Uint8Array, owned: boolean): { view: Uint8Array; buffer: ArrayBuffer } {
  if (
    owned &&
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  ) {
    return { view: bytes, buffer: bytes.buffer };
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { view: copy, buffer: copy.buffer };
}

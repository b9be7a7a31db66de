// Draws Mallard's icon (a duck peeking over an envelope) and writes it as PNG files:
// build/icon.png (512 px, electron-builder derives the Windows .ico and macOS .icns from it),
// build/icons/<size>x<size>.png (the Linux icon set) and app/main/tray-icon-data.ts (the tray icon,
// embedded in the main bundle so it needs no file beside it). Run: `node build/make-icons.mjs`.
// Plain Node with no dependency: shapes are tested per sample and each pixel averages 4x4 samples.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const rgb = (hex) => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
];

/** Inside a rectangle with rounded corners (all coordinates in 0..1 of the icon). */
function inRoundedRect(x, y, left, top, right, bottom, radius) {
  if (x < left || x > right || y < top || y > bottom) return false;
  const cx = Math.min(Math.max(x, left + radius), right - radius);
  const cy = Math.min(Math.max(y, top + radius), bottom - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

const inEllipse = (x, y, cx, cy, rx, ry) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;

/** Within half a stroke width of the segment (x1,y1)-(x2,y2). */
function nearSegment(x, y, x1, y1, x2, y2, width) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const t = Math.min(1, Math.max(0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)));
  return (x - (x1 + t * dx)) ** 2 + (y - (y1 + t * dy)) ** 2 <= (width / 2) ** 2;
}

const top = rgb('#1f7a99');
const bottom = rgb('#12465c');
const paper = rgb('#f8f5ec');
const fold = rgb('#b9cbd3');
const yellow = rgb('#f6c343');
const beak = rgb('#ef8a22');
const eye = rgb('#17252d');

/** Colour of one sample point, painted back to front; null where the icon is transparent. */
function sample(x, y) {
  if (!inRoundedRect(x, y, 0.04, 0.04, 0.96, 0.96, 0.2)) return null;
  const t = (y - 0.04) / 0.92;
  let colour = top.map((c, i) => c + (bottom[i] - c) * t);
  if (inEllipse(x, y, 0.47, 0.3, 0.14, 0.135)) colour = yellow;
  if (inEllipse(x, y, 0.64, 0.335, 0.085, 0.042)) colour = beak;
  if (inEllipse(x, y, 0.5, 0.255, 0.024, 0.024)) colour = eye;
  if (inRoundedRect(x, y, 0.15, 0.4, 0.85, 0.81, 0.045)) {
    colour = paper;
    if (nearSegment(x, y, 0.17, 0.43, 0.5, 0.65, 0.04) || nearSegment(x, y, 0.5, 0.65, 0.83, 0.43, 0.04)) {
      colour = fold;
    }
  }
  return colour;
}

function rasterize(size) {
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const colour = sample((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          if (!colour) continue;
          r += colour[0];
          g += colour[1];
          b += colour[2];
          covered++;
        }
      }
      const at = (py * size + px) * 4;
      if (covered === 0) continue;
      pixels[at] = Math.round(r / covered);
      pixels[at + 1] = Math.round(g / covered);
      pixels[at + 2] = Math.round(b / covered);
      pixels[at + 3] = Math.round((255 * covered) / (samples * samples));
    }
  }
  return pixels;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG; every row uses filter 0 (none), which zlib then compresses well enough. */
function encodePng(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const png = (size) => encodePng(size, rasterize(size));

fs.mkdirSync(path.join(root, 'build', 'icons'), { recursive: true });
for (const size of [512, 256, 128, 64, 48, 32, 16]) {
  fs.writeFileSync(path.join(root, 'build', 'icons', `${size}x${size}.png`), png(size));
}
fs.copyFileSync(path.join(root, 'build', 'icons', '512x512.png'), path.join(root, 'build', 'icon.png'));

const trayModule = `// Generated by build/make-icons.mjs: the tray icon as PNG data (1x and 2x), so the main bundle
// needs no image file beside it. Do not edit; run \`node build/make-icons.mjs\` instead.
export const trayIconPng1x =
  '${png(32).toString('base64')}';
export const trayIconPng2x =
  '${png(64).toString('base64')}';
`;
fs.writeFileSync(path.join(root, 'app', 'main', 'tray-icon-data.ts'), trayModule);
process.stdout.write('icons written to build/icon.png, build/icons/ and app/main/tray-icon-data.ts\n');

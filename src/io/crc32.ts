/**
 * CRC-32 as zip, gzip, PNG and PyTorch's .pt archives compute it (IEEE 802.3:
 * the reflected polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF), so `crc32("123456789")` is 0xCBF43926. Isomorphic (the
 * browser loads checkpoints too), table-driven, eight bytes per step
 * ("slicing by 8": eight tables of 256 entries, 8 KiB, built on first use).
 *
 * A CRC-32 detects every change of up to 32 consecutive bits, so any one
 * flipped byte, and any other change with probability 1 - 2^-32. It guards
 * against damage, not against someone who means to change a file: they can
 * recompute it.
 */
import { ValueError } from '../errors.js';

const POLYNOMIAL = 0xedb88320;

let tables: Uint32Array[] | null = null;

/** tables[k][b]: the CRC register after byte b is followed by k zero bytes. */
function crcTables(): Uint32Array[] {
  if (tables !== null) return tables;
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t[0][b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) t[k][b] = (t[k - 1][b] >>> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  tables = t;
  return t;
}

/**
 * The CRC-32 of `bytes`, an unsigned 32-bit integer. `previous` continues a
 * running CRC: `crc32(b, crc32(a))` is the CRC of a followed by b.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`crc32: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (!Number.isInteger(previous) || previous < 0 || previous > 0xffffffff) {
    throw new ValueError(`crc32: previous must be a CRC-32 (an integer in [0, 0xffffffff]), got ${previous}`);
  }
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables();
  let c = (previous ^ 0xffffffff) >>> 0;
  const n = bytes.length;
  let i = 0;
  for (const end = n - (n % 8); i < end; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c = t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < n; i++) c = (c >>> 8) ^ t0[(c ^ bytes[i]) & 0xff];
  return (c ^ 0xffffffff) >>> 0;
}

/** A CRC-32 as messages show it: 0x and eight hex digits. */
export function formatCrc32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

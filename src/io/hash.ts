import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
export function sha512Hex(data: Uint8Array | string): string {
  return createHash('sha512').update(data).digest('hex');
}
/** Hex digest with the algorithm a metadata `hashes` entry names (node's names; an unknown one throws). */
export function hashHex(algorithm: string, data: Uint8Array | string): string {
  return createHash(algorithm).update(data).digest('hex');
}

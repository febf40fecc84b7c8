/** `yubikey:serial=N;slot=9c`: which YubiKey (by serial, optional) and which PIV slot holds a key. */
import { TufsignError } from '../../errors';
import { parseSlot, slotName } from './piv';

export interface YubiKeyUri {
  serial: number | undefined;
  slot: number;
}

export function parseYubiKeyUri(uri: string): YubiKeyUri {
  const bad = (why: string): never => {
    throw new TufsignError('KEY_URI_INVALID', `invalid YubiKey key URI "${uri}": ${why}`, {
      rule: 'yubikey:serial=N;slot=9c',
      suggestion: "Example: --key 'yubikey:serial=12345678;slot=9c' (quoted: the shell splits at ';')",
    });
  };
  if (!uri.startsWith('yubikey:')) bad('must start with yubikey:');
  let serial: number | undefined;
  let slot: number | undefined;
  for (const part of uri
    .slice('yubikey:'.length)
    .split(';')
    .filter((p) => p !== '')) {
    const [k, v, ...rest] = part.split('=');
    if (v === undefined || rest.length > 0) return bad(`"${part}" is not key=value`);
    if (k === 'serial') {
      if (!/^[0-9]{1,10}$/.test(v)) bad('serial must be a decimal number');
      serial = Number(v);
    } else if (k === 'slot') slot = parseSlot(v);
    else bad(`unknown attribute "${k ?? ''}"`);
  }
  if (slot === undefined) return bad('slot is required');
  return { serial, slot };
}

export function yubiKeyUri(serial: number, slot: number): string {
  return `yubikey:serial=${serial};slot=${slotName(slot)}`;
}

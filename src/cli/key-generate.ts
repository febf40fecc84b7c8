/** `key generate`: a new key in a file, a PKCS#11 token or a YubiKey slot; prints its URI and public key. */
import { Flags, type Interfaces } from '@oclif/core';
import { lockWorkspace, userLockDir } from '../io/lock';
import { generateKey, generationLock, type KeyGenerationResult } from '../repository/keys';
import { TufsignError } from '../errors';
import { isScheme, SCHEMES } from '../tuf/key';
import type { CommandIo } from './base-command';

export const keyGenerateFlags = {
  backend: Flags.string({
    description: 'Where the private key lives.',
    options: ['file', 'pkcs11', 'yubikey'],
    default: 'file',
  }),
  scheme: Flags.string({ description: 'Signature scheme.', options: [...SCHEMES], default: 'ed25519' }),
  out: Flags.string({ description: 'file backend: path of the encrypted key file (created 0600).' }),
  'public-out': Flags.string({ description: 'Write the public key file for the organizer here.' }),
  owner: Flags.string({ description: 'Owner label carried in the public key file.' }),
  token: Flags.string({ description: 'pkcs11: token label.' }),
  label: Flags.string({ description: 'pkcs11: key object label.' }),
  'pkcs11-module': Flags.string({
    description: 'pkcs11: module path (default TUFSIGN_PKCS11_MODULE).',
    aliases: ['module'],
    deprecateAliases: true,
  }),
  serial: Flags.integer({ description: 'yubikey: serial number of the device to use.' }),
  slot: Flags.string({ description: 'yubikey: PIV slot.', default: '9c' }),
  'pin-policy': Flags.string({
    description: 'yubikey: PIN policy.',
    options: ['always', 'once', 'never', 'default'],
  }),
  'touch-policy': Flags.string({
    description: 'yubikey: touch policy.',
    options: ['always', 'cached', 'never', 'default'],
  }),
  'allow-default-management-key': Flags.boolean({
    description: 'yubikey: allow the factory-default management key (test devices only).',
    default: false,
  }),
};

export async function runKeyGenerate(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyGenerateFlags>,
): Promise<KeyGenerationResult> {
  const f = flags;
  if (!isScheme(f.scheme)) throw new TufsignError('USAGE', `unknown scheme ${f.scheme}`, { rule: SCHEMES.join(', ') });
  const request: Parameters<typeof generateKey>[0] = {
    backend: f.backend as 'file' | 'pkcs11' | 'yubikey',
    scheme: f.scheme,
    allowDefaultManagementKey: f['allow-default-management-key'],
  };
  if (f.out !== undefined) request.outFile = f.out;
  if (f['public-out'] !== undefined) request.publicOut = f['public-out'];
  if (f.owner !== undefined) request.owner = f.owner;
  if (f.token !== undefined) request.token = f.token;
  if (f.label !== undefined) request.label = f.label;
  if (f['pkcs11-module'] !== undefined) request.module = f['pkcs11-module'];
  if (f.serial !== undefined) request.serial = f.serial;
  if (f.slot !== undefined) request.slot = f.slot;
  if (f['pin-policy'] !== undefined) request.pinPolicy = f['pin-policy'] as 'always';
  if (f['touch-policy'] !== undefined) request.touchPolicy = f['touch-policy'] as 'always';
  // One run per key file, token label or YubiKey slot at a time: a second one fails at once (WORKSPACE_BUSY).
  const where = generationLock(request, process.cwd());
  const lock = await lockWorkspace(userLockDir(io.ctx.env), {
    command: 'key generate',
    name: where.name,
    what: where.what,
  });
  let result: KeyGenerationResult;
  try {
    result = await generateKey(request, io.ctx.openOptions(process.cwd()));
  } finally {
    lock.release();
  }
  io.log(`uri:    ${result.uri}\nkeyid:  ${result.keyid}\nscheme: ${result.scheme}\npublic: ${result.publicKeyText}`);
  if (result.resumed === true)
    io.note(
      f.backend === 'file'
        ? 'the key file was already there (an earlier run): kept, no new key made'
        : f.backend === 'yubikey'
          ? `slot ${f.slot} already held the key an earlier, interrupted run made: kept, no new key made`
          : `the token already held the key labelled "${f.label ?? ''}" (an earlier run): kept, no new key made`,
    );
  if (result.publicFile !== undefined)
    io.note(`public key file written to ${result.publicFile}: hand it to the organizer`);
  return result;
}

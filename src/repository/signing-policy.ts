/**
 * The root-key policy at signing time (ADR 0004, #11): under `root_key_policy`, a root key signs only from a
 * YubiKey, and only after the device re-attests the slot (same serial, same key, policy still met) — before
 * any PIN is asked. Keys of other backends are refused. One home for the rule; the composition root applies it
 * to every signer it opens.
 */
import { TufsignError } from '../errors';
import type { OpenOptions } from '../keystore/backend';
import type { KeyRef } from '../keystore/key-ref';
import { viewAttestation } from '../keystore/yubikey/claims';
import type { WorkspaceConfig } from './config';
import { workspaceRootKeyPolicy } from './keys';

/**
 * What opening `ref` for `keyid` needs under the workspace's policy: nothing (no policy, not a root key), the
 * re-attestation requirement for a YubiKey, or a refusal (POLICY_VIOLATION) for any other backend.
 */
export function signingAttestationPolicy(
  config: Pick<WorkspaceConfig, 'rootKeyPolicy' | 'keys'>,
  keyid: string,
  ref: KeyRef,
  isRootKey: boolean,
): OpenOptions['attestationPolicy'] {
  const policy = workspaceRootKeyPolicy(config as WorkspaceConfig);
  if (policy === undefined || !isRootKey) return undefined;
  if (ref.backend !== 'yubikey') {
    throw new TufsignError(
      'POLICY_VIOLATION',
      `root key ${keyid.slice(0, 16)}… is held by ${ref.backend} (${ref.uri}); this workspace's root-key policy signs root only with attested YubiKeys; nothing was signed`,
      {
        rule: 'BAD-58 root keys must be attested YubiKey keys with touch always',
        details: { keyid, uri: ref.uri },
        suggestion:
          'Rotate this key out of root (`tufsign root rotate --remove-key`) in favour of an attested YubiKey key.',
      },
    );
  }
  const attestedSerial = viewAttestation(config.keys.get(keyid)?.attestation)?.serial;
  return attestedSerial === undefined ? { policy } : { policy, attestedSerial };
}

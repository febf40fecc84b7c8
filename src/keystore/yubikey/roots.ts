/**
 * The attestation trust anchors, apart from the device code: checking a recorded attestation (keys, requests,
 * policies) must not load the PC/SC backend.
 */
import { TufsignError } from '../../errors';
import { readFileBounded } from '../../io/fs';
import type { OpenOptions } from '../backend';
import type { CertInput } from './attestation';
import { YUBICO_PIV_ROOTS } from './yubico-ca';

/**
 * Trust anchors: Yubico's, `extra` (a backend's own, for tests), the CAs given for this run (`--attestation-ca`,
 * the workspace policy), plus TUFSIGN_YUBIKEY_TEST_CA (a PEM file; tests only — attestations record their root).
 */
export function trustedAttestationRoots(
  o: Pick<OpenOptions, 'env' | 'attestationRoots'>,
  extra: readonly CertInput[] = [],
): CertInput[] {
  const roots: CertInput[] = [...YUBICO_PIV_ROOTS, ...extra, ...(o.attestationRoots ?? [])];
  const testCa = o.env['TUFSIGN_YUBIKEY_TEST_CA'];
  if (testCa !== undefined && testCa !== '') {
    try {
      roots.push(readFileBounded(testCa, 1024 * 1024).toString('utf8'));
    } catch (cause) {
      throw new TufsignError('IO_ERROR', `cannot read TUFSIGN_YUBIKEY_TEST_CA (${testCa})`, { cause });
    }
  }
  return roots;
}

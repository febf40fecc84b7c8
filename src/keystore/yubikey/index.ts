/** `yubikey:serial=N;slot=9c` keys over PC/SC (PIV). Implemented in issue #4. */
import { TufsignError } from '../../errors';
import type { KeyBackend } from '../backend';

export const yubikeyBackend: KeyBackend = {
  open(uri) {
    return Promise.reject(new TufsignError('SCHEME_UNSUPPORTED', `YubiKey keys are not available yet (${uri})`, { rule: 'yubikey backend' }));
  },
};

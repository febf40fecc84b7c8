/** `pkcs11:` keys (RFC 7512 URIs) through any PKCS#11 module. Implemented in issue #3. */
import { TufsignError } from '../../errors';
import type { KeyBackend } from '../backend';

export const pkcs11Backend: KeyBackend = {
  open(uri) {
    return Promise.reject(new TufsignError('SCHEME_UNSUPPORTED', `PKCS#11 keys are not available yet (${uri})`, { rule: 'pkcs11 backend' }));
  },
};

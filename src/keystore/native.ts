/** Lazy loading of optional native modules, with an actionable error when one is missing. */
import { TufsignError } from '../errors';
import { addonPath, isStandalone } from '../io/executable';

/* eslint-disable @typescript-eslint/no-require-imports */
// Literal requires, so the standalone bundle (scripts/package.js) can include the modules' JavaScript.
const LOADERS = {
  pkcs11js: (): unknown => require('pkcs11js'),
  pcsclite: (): unknown => require('pcsclite'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

export type NativeModule = keyof typeof LOADERS;

const ADDON_FILE: Record<NativeModule, string> = { pkcs11js: 'pkcs11', pcsclite: 'pcsclite' };

/** What to install, in words, when a native module cannot load. */
function suggestion(moduleName: NativeModule, cause: unknown): string {
  if (!isStandalone()) {
    return `Install it with: npm_config_nodedir=/usr npm install ${moduleName} (needs a C++ compiler${moduleName === 'pcsclite' ? ' and libpcsclite-dev' : ''})`;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  if (moduleName === 'pcsclite' && /libpcsclite/.test(message)) {
    return 'Install the PC/SC library and daemon: Debian/Ubuntu `sudo apt install libpcsclite1 pcscd`, Fedora `sudo dnf install pcsc-lite-libs pcsc-lite`, then `sudo systemctl start pcscd`.';
  }
  return `The standalone tufsign loads this module from ${addonPath(ADDON_FILE[moduleName])}: unpack the whole folder from the release tarball and check it against SHA256SUMS (docs/airgap-install.md).`;
}

export function loadNative<T>(moduleName: NativeModule, purpose: string): T {
  try {
    return LOADERS[moduleName]() as T;
  } catch (cause) {
    throw new TufsignError('DEPENDENCY_MISSING', `${purpose} needs the optional module "${moduleName}", which is not installed or did not build`, {
      rule: 'native modules are optional and loaded on first use',
      suggestion: suggestion(moduleName, cause),
      cause,
    });
  }
}

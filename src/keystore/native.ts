/** Lazy loading of optional native modules, with an actionable error when one is missing. */
import { TufsignError } from '../errors';

export function loadNative<T>(moduleName: string, purpose: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(moduleName) as T;
  } catch (cause) {
    throw new TufsignError('DEPENDENCY_MISSING', `${purpose} needs the optional module "${moduleName}", which is not installed or did not build`, {
      rule: 'native modules are optional and loaded on first use',
      suggestion: `Install it with: npm_config_nodedir=/usr npm install ${moduleName} (needs a C++ compiler${moduleName === 'pcsclite' ? ' and libpcsclite-dev' : ''})`,
      cause,
    });
  }
}

import { TufsignError } from '../errors';
import type { OpenOptions } from '../keystore/backend';
import { resolveKeySpec } from '../repository/key-specs';
import type { RoleKeySpec } from '../repository/operations';

/** `--key FILE_OR_URI` values (public key files or key URIs), resolved once at the boundary. */
export async function resolveKeyFlags(values: readonly string[] | undefined, options: OpenOptions): Promise<RoleKeySpec[]> {
  if (values === undefined || values.length === 0) throw new TufsignError('USAGE', 'give at least one --key', { rule: '--key FILE_OR_URI' });
  const out: RoleKeySpec[] = [];
  for (const v of values) out.push(await resolveKeySpec(v, options));
  return out;
}

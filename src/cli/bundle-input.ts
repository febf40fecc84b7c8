/** BUNDLE arguments for `verify` and `publish`: a bundle folder or a bundle `.tar.gz` (ADR 0017). */
import { openBundle, type OpenedBundle } from '../bundle/archive';

/** Run `fn` on the folder a BUNDLE argument names (a tarball is unpacked privately and removed afterwards). */
export async function withBundleInput<T>(path: string, fn: (bundle: OpenedBundle) => Promise<T> | T): Promise<T> {
  const opened = await openBundle(path);
  try {
    return await fn(opened);
  } finally {
    opened.close();
  }
}

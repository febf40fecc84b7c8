/** The upload bundle: exactly the files to publish, a manifest, the transcript, and a deterministic tarball. */
export * from './manifest';
export * from './tar';
export * from './write';
export * from './verify';

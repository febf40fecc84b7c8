/** The ceremony core: a pure state machine over signing requests (no I/O, no clock). */
export * from './request';
export * from './transcript';
export * from './fingerprint';
export * from './status';
export * from './diff';
export * from './transitions';
export * from './anchor';
export * from './danger';
export * from './delegation-diff';

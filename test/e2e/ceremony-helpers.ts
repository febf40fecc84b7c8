/** The ceremony helpers moved to test/helpers/ceremony.ts; this name stays for the tests that import it. */
export * from '../helpers/ceremony';

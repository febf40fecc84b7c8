/**
 * `pkcs11:` keys (RFC 7512 URIs) through any PKCS#11 module: SoftHSM2, network
 * HSMs, YubiHSM 2, smart cards through OpenSC, YubiKeys through ykcs11.
 *
 * Order of operations when opening a key matters: find the token, read the
 * public key and compare it with the key the role expects (BAD-57), check the
 * token has the mechanism, and only then spend a PIN try.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TufsignError } from '../../errors';
import { isScheme, type Key, type Scheme } from '../../tuf/key';
import type { GeneratedKey, GenerateRequest, OpenOptions, ReadableKeyBackend } from '../backend';
import type { Pkcs11KeyRef } from '../key-ref';
import type { SignatureBytes, Signer } from '../signer';
import {
  CKA_ALWAYS_AUTHENTICATE,
  CKA_CLASS,
  CKA_DECRYPT,
  CKA_EC_PARAMS,
  CKA_EXTRACTABLE,
  CKA_ID,
  CKA_KEY_TYPE,
  CKA_LABEL,
  CKA_MODULUS,
  CKA_MODULUS_BITS,
  CKA_PRIVATE,
  CKA_PUBLIC_EXPONENT,
  CKA_SENSITIVE,
  CKA_SIGN,
  CKA_TOKEN,
  CKA_VERIFY,
  CKG_MGF1_SHA256,
  CKK_EC,
  CKK_EC_EDWARDS,
  CKK_RSA,
  CKM_ECDSA,
  CKM_ECDSA_SHA256,
  CKM_RSA_PKCS_PSS,
  CKM_SHA256,
  CKM_SHA256_RSA_PKCS_PSS,
  CKO_PRIVATE_KEY,
  CKO_PUBLIC_KEY,
  CKU_CONTEXT_SPECIFIC,
  type Attribute,
  type Handle,
  type Mechanism,
} from './api';
import { EC_PARAMS_ED25519, EC_PARAMS_P256, ecdsaRawToDer } from './encoding';
import { listPkcs11Devices } from './devices';
import { chooseModule } from './modules';
import {
  KEYGEN_MECHANISM,
  findKeys,
  findObjects,
  locatePublicKey,
  mechanismUnsupported,
  privateKeyOf,
  readAttribute,
  readPublicKeyObject,
  selectToken,
  signMechanism,
  tufKey,
  keyNotFound,
  type LocatedPublicKey,
  type SignMechanism,
  type TokenPublicKey,
} from './objects';
import { obtainPin, tokenLabel } from './pin';
import { deviceError, loadModule, pinLockedError, type TokenSession } from './runtime';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './uri';
import { removeAtomicWriteLeftovers } from '../../io/fs';
import { pkcs11JournalPath, readPkcs11Journal, writePkcs11Journal } from './journal';

export { closePkcs11 } from './runtime';
export { parsePkcs11Uri, formatPkcs11Uri, type Pkcs11Uri } from './uri';

interface SessionContext {
  session: TokenSession;
  uri: Pkcs11Uri;
  options: OpenOptions;
}

/** Log in once per token; concurrent opens on one token share the PIN prompt. */
async function ensureLoggedIn(ctx: SessionContext): Promise<void> {
  const { session } = ctx;
  if (session.loggedIn) return;
  if (session.pendingLogin !== undefined) return session.pendingLogin;
  const attempt = (async () => {
    const flags = session.flags();
    if (flags.pinLocked) throw pinLockedError(session.token);
    if (!flags.loginRequired) return;
    if (flags.protectedAuthenticationPath) {
      ctx.options.secrets.notify?.(`Enter the PIN on the PIN pad of ${tokenLabel(session.token)}`);
      session.login(undefined);
      return;
    }
    const pin = await obtainPin(session.token, flags, ctx.uri.pinSource, ctx.options.baseDir, ctx.options.secrets);
    try {
      session.login(pin);
    } finally {
      pin.fill(0);
    }
  })();
  session.pendingLogin = attempt;
  try {
    await attempt;
  } finally {
    session.pendingLogin = undefined;
  }
}

function mismatch(uri: string, expected: Key, when: string): TufsignError {
  return new TufsignError(
    'KEY_MISMATCH',
    `${uri} holds a different key than the role expects (keyid ${expected.keyid().slice(0, 16)}…); ${when}`,
    {
      rule: 'BAD-57 sign only with the expected key, checked before the PIN',
      suggestion:
        'Check that the right token is connected and the URI names the right key (`tufsign devices` lists keys and keyids).',
      details: { expectedKeyid: expected.keyid() },
    },
  );
}

function pssParameter(binding: { CK_PARAMS_RSA_PSS: number }): Mechanism['parameter'] {
  return { type: binding.CK_PARAMS_RSA_PSS, hashAlg: CKM_SHA256, mgf: CKG_MGF1_SHA256, saltLen: 32 };
}

class Pkcs11Signer implements Signer {
  private closed = false;
  constructor(
    readonly uri: string,
    readonly publicKey: Key,
    readonly scheme: Scheme,
    private readonly session: TokenSession,
    private readonly privateKey: Handle,
    private readonly mech: SignMechanism,
    /** true when the token showed no public key and we trust the role's key (then a failed check is a mismatch) */
    private readonly publicKeyFromRole: boolean,
    private readonly alwaysAuthenticate: boolean,
    private readonly pinForContext: () => Promise<Buffer>,
  ) {
    session.users++;
  }

  async sign(data: Uint8Array): Promise<SignatureBytes> {
    if (this.closed) throw new TufsignError('INTERNAL', `signer for ${this.uri} was closed`);
    const input = this.mech.prehash ? createHash('sha256').update(data).digest() : Buffer.from(data);
    const mechanism: Mechanism = { mechanism: this.mech.mechanism };
    if (this.mech.mechanism === CKM_RSA_PKCS_PSS || this.mech.mechanism === CKM_SHA256_RSA_PKCS_PSS)
      mechanism.parameter = pssParameter(this.session.module.binding);
    let raw: Buffer;
    try {
      this.session.api.C_SignInit(this.session.handle, mechanism, this.privateKey);
      if (this.alwaysAuthenticate) {
        // Keys with CKA_ALWAYS_AUTHENTICATE (e.g. PIV slot 9c via ykcs11) want the PIN again for each signature.
        const pin = await this.pinForContext();
        try {
          this.session.login(pin, CKU_CONTEXT_SPECIFIC);
        } finally {
          pin.fill(0);
        }
      }
      raw = this.session.api.C_Sign(this.session.handle, input, Buffer.alloc(1024));
    } catch (e) {
      const err = deviceError(e, `signing with ${this.uri}`, this.session.token);
      if (err.code === 'TOKEN_NOT_PRESENT' || err.code === 'DEVICE_ERROR') {
        this.closed = true;
        this.session.users--;
        if (this.session.users === 0) this.session.close();
      }
      throw err;
    }
    const signature =
      this.mech.mechanism === CKM_ECDSA || this.mech.mechanism === CKM_ECDSA_SHA256
        ? ecdsaRawToDer(raw)
        : Buffer.from(raw);
    if (!this.publicKey.verify(signature, data)) {
      if (this.publicKeyFromRole)
        throw mismatch(this.uri, this.publicKey, "the signature it made does not verify with the role's key");
      throw new TufsignError(
        'SIGNATURE_INVALID',
        `the signature made with ${this.uri} does not verify with its public key`,
        {
          rule: 'verify before saving',
          suggestion: 'The token or its module misbehaves; check it with `tufsign devices` and its vendor tools.',
        },
      );
    }
    return { keyid: this.publicKey.keyid(), signature };
  }

  close(): Promise<void> {
    // The token session stays open (logged in) for the rest of the run, so the
    // next key on this token does not ask for the PIN again; closePkcs11() or
    // process exit ends it.
    if (!this.closed) {
      this.closed = true;
      this.session.users--;
    }
    return Promise.resolve();
  }
}

function openSession(uri: Pkcs11Uri, options: OpenOptions, explicitModule?: string): TokenSession {
  const { path } = chooseModule(uri, options, explicitModule);
  const mod = loadModule(path);
  const { slot, token } = selectToken(mod, uri);
  return mod.session(slot, token);
}

/** Close a session an error left behind, unless a signer still uses it. */
function closeIfUnused(session: TokenSession): void {
  if (session.users === 0 && !session.loggedIn) session.close();
}

function schemeOfRole(expected: Key | undefined): Scheme | undefined {
  return expected !== undefined && isScheme(expected.scheme) ? expected.scheme : undefined;
}

async function openPkcs11(ref: Pkcs11KeyRef, options: OpenOptions): Promise<Signer> {
  const { uri: uriString, pkcs11: uri } = ref;
  const session = openSession(uri, options);
  try {
    return await openOnSession(uriString, uri, session, options);
  } catch (e) {
    closeIfUnused(session);
    throw e;
  }
}

/**
 * What can be known about a key without a PIN: the token (found by the caller), the public key object compared
 * with the role's key (BAD-57: no PIN try spent on the wrong token), and the signing mechanism. Returns the
 * public key when the token shows it before login.
 */
function checkBeforeLogin(
  uriString: string,
  uri: Pkcs11Uri,
  session: TokenSession,
  options: OpenOptions,
): LocatedPublicKey | undefined {
  const expected = options.expectedKey;
  const located = locatePublicKey(session, uri);
  if (located !== undefined && expected !== undefined && !tufKey(located.publicKey, expected).samePublicKey(expected))
    throw mismatch(uriString, expected, 'refused before asking for the PIN');
  const mechs = session.module.mechanisms(session.slot, session.token);
  const earlyScheme = located?.publicKey.scheme ?? schemeOfRole(expected);
  if (earlyScheme !== undefined && signMechanism(earlyScheme, mechs) === undefined)
    throw mechanismUnsupported(session.token, earlyScheme, mechs, 'sign');
  return located;
}

/**
 * The device pre-flight (ADR 0004): everything `open` checks before the PIN, and nothing after it — the token
 * the URI names is present (label, serial, …, exactly one), its public key object is the role's key, it has the
 * mechanism, and its user PIN is not locked. A token that needs no login must show the key itself. No login,
 * no PIN asked; the session stays open for the signing that follows.
 */
async function preflightPkcs11(ref: Pkcs11KeyRef, options: OpenOptions): Promise<void> {
  const { uri: uriString, pkcs11: uri } = ref;
  const session = openSession(uri, options);
  try {
    if (session.loggedIn) return;
    const located = checkBeforeLogin(uriString, uri, session, options);
    const flags = session.flags();
    if (flags.pinLocked) throw pinLockedError(session.token);
    if (located === undefined && !flags.loginRequired) {
      // nothing is hidden behind a login on this token: no public key means no such key (RSA private keys
      // carry their public part, which open() would use)
      const priv = privateKeyOf(session, uri, undefined);
      const pk = readPublicKeyObjectSafe(session, priv.handle);
      if (
        pk !== undefined &&
        options.expectedKey !== undefined &&
        !tufKey(pk, options.expectedKey).samePublicKey(options.expectedKey)
      )
        throw mismatch(uriString, options.expectedKey, 'refused before asking for the PIN');
    }
  } catch (e) {
    closeIfUnused(session);
    throw e;
  }
  return Promise.resolve();
}

async function openOnSession(
  uriString: string,
  uri: Pkcs11Uri,
  session: TokenSession,
  options: OpenOptions,
): Promise<Signer> {
  const expected = options.expectedKey;
  const ctx: SessionContext = { session, uri, options };
  // 1-2. Public key and mechanism, before any PIN.
  let located = checkBeforeLogin(uriString, uri, session, options);
  const mechs = session.module.mechanisms(session.slot, session.token);
  // 3. Log in once per token.
  await ensureLoggedIn(ctx);
  if (located === undefined) {
    located = locatePublicKey(session, uri);
    if (
      located !== undefined &&
      expected !== undefined &&
      !tufKey(located.publicKey, expected).samePublicKey(expected)
    ) {
      throw mismatch(uriString, expected, 'found after login (this token hides public keys until then)');
    }
  }
  const priv = privateKeyOf(session, uri, located?.object.id);
  let pk: TokenPublicKey | undefined = located?.publicKey;
  // RSA private keys carry modulus and exponent; use them when there is no public object.
  if (pk === undefined) pk = readPublicKeyObjectSafe(session, priv.handle);
  if (pk !== undefined && expected !== undefined && !tufKey(pk, expected).samePublicKey(expected))
    throw mismatch(uriString, expected, 'found after login');
  let publicKey: Key;
  let fromRole = false;
  if (expected !== undefined && (pk === undefined || tufKey(pk, expected).samePublicKey(expected))) {
    // Sign under the role's own key object: its keyid is the one in the metadata.
    publicKey = expected;
    fromRole = pk === undefined;
  } else if (pk !== undefined) {
    publicKey = tufKey(pk, undefined);
  } else {
    throw new TufsignError(
      'KEY_NOT_FOUND',
      `token "${session.token.label}" shows no public key for ${uriString}, and no expected key was given`,
      {
        rule: 'a PKCS#11 key needs a public key object or certificate beside it',
        suggestion:
          'Register the key with its public key file (`tufsign key import`), or store the public key on the token beside the private key.',
      },
    );
  }
  const scheme = isScheme(publicKey.scheme) ? publicKey.scheme : undefined;
  if (scheme === undefined) throw new TufsignError('SCHEME_UNSUPPORTED', `unsupported scheme ${publicKey.scheme}`);
  const mech = signMechanism(scheme, mechs);
  if (mech === undefined) throw mechanismUnsupported(session.token, scheme, mechs, 'sign');
  const alwaysAuth = readAttribute(session, priv.handle, CKA_ALWAYS_AUTHENTICATE)?.[0] === 1;
  const pinForContext = (): Promise<Buffer> =>
    obtainPin(session.token, session.flags(), uri.pinSource, options.baseDir, options.secrets);
  return new Pkcs11Signer(
    uriString,
    publicKey,
    scheme,
    session,
    priv.handle,
    mech,
    fromRole,
    alwaysAuth,
    pinForContext,
  );
}

function readPublicKeyObjectSafe(session: TokenSession, handle: Handle): TokenPublicKey | undefined {
  // Only RSA private keys expose the public values; EC private keys do not have the point.
  return readAttribute(session, handle, CKA_MODULUS) === undefined ? undefined : readPublicKeyObject(session, handle);
}

async function readPublicKeyPkcs11(ref: Pkcs11KeyRef, options: OpenOptions): Promise<GeneratedKey> {
  const { uri: uriString, pkcs11: uri } = ref;
  const session = openSession(uri, options);
  try {
    let located = locatePublicKey(session, uri);
    if (located === undefined) {
      // Some tokens show public objects only after login.
      await ensureLoggedIn({ session, uri, options });
      located = locatePublicKey(session, uri);
      if (located === undefined) {
        const priv = privateKeyOf(session, uri, undefined);
        const pk = readPublicKeyObjectSafe(session, priv.handle);
        if (pk === undefined) throw keyNotFound(session, uri);
        return { uri: uriString, publicKey: checked(uriString, tufKey(pk, options.expectedKey), options.expectedKey) };
      }
    }
    return {
      uri: uriString,
      publicKey: checked(uriString, tufKey(located.publicKey, options.expectedKey), options.expectedKey),
    };
  } catch (e) {
    closeIfUnused(session);
    throw e;
  }
}

function checked(uri: string, key: Key, expected: Key | undefined): Key {
  if (expected === undefined) return key;
  if (!key.samePublicKey(expected)) throw mismatch(uri, expected, 'read from the token');
  return expected;
}

function keyTemplates(scheme: Scheme, label: string, id: Buffer): { pub: Attribute[]; priv: Attribute[] } {
  const common = (cls: number): Attribute[] => [
    { type: CKA_CLASS, value: cls },
    { type: CKA_TOKEN, value: true },
    { type: CKA_LABEL, value: label },
    { type: CKA_ID, value: id },
  ];
  const keyType = scheme === 'rsassa-pss-sha256' ? CKK_RSA : scheme === 'ed25519' ? CKK_EC_EDWARDS : CKK_EC;
  const pub: Attribute[] = [
    ...common(CKO_PUBLIC_KEY),
    { type: CKA_KEY_TYPE, value: keyType },
    { type: CKA_PRIVATE, value: false },
    { type: CKA_VERIFY, value: true },
  ];
  if (scheme === 'rsassa-pss-sha256') {
    pub.push({ type: CKA_MODULUS_BITS, value: 3072 }, { type: CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
  } else {
    pub.push({ type: CKA_EC_PARAMS, value: scheme === 'ed25519' ? EC_PARAMS_ED25519 : EC_PARAMS_P256 });
  }
  const priv: Attribute[] = [
    ...common(CKO_PRIVATE_KEY),
    { type: CKA_KEY_TYPE, value: keyType },
    { type: CKA_PRIVATE, value: true },
    { type: CKA_SENSITIVE, value: true },
    { type: CKA_EXTRACTABLE, value: false },
    { type: CKA_SIGN, value: true },
  ];
  if (scheme === 'rsassa-pss-sha256') priv.push({ type: CKA_DECRYPT, value: false });
  return { pub, priv };
}

/** A fresh CKA_ID no object on the token uses. Two bytes: YubiHSM 2 and PIV-style tokens allow no more. */
function freshId(session: TokenSession): Buffer {
  for (let i = 0; i < 64; i++) {
    const id = randomBytes(2);
    if (id.readUInt16BE(0) === 0) continue;
    if (findObjects(session, [{ type: CKA_ID, value: id }]).length === 0) return id;
  }
  throw new TufsignError('DEVICE_ERROR', `could not find a free key id on token "${session.token.label}"`, {
    suggestion: 'Remove unused keys from the token.',
  });
}

function labelTaken(session: TokenSession, label: string, why?: string): TufsignError {
  return new TufsignError(
    'USAGE',
    `token "${session.token.label}" already holds a key labelled "${label}"${why === undefined ? '' : ` (${why})`}`,
    {
      rule: 'key labels are unique on a token, so URIs stay unambiguous (BAD-56); tufsign never replaces a key',
      suggestion:
        'Choose another --label, or use the existing key with `tufsign key import`; `tufsign devices` lists the objects on the token.',
    },
  );
}

/** The token and object label a generate request names (both required). */
function generateTarget(request: GenerateRequest): { label: string; tokenUri: Pkcs11Uri } {
  const label = request.label;
  if (label === undefined || label === '')
    throw new TufsignError('USAGE', 'a PKCS#11 key needs a label', {
      rule: 'key generate --backend pkcs11 --label NAME',
    });
  if (request.token === undefined || request.token === '')
    throw new TufsignError('USAGE', 'say which token to generate the key on', {
      rule: 'key generate --backend pkcs11 --token LABEL',
    });
  const tokenUri: Pkcs11Uri = request.token.startsWith('pkcs11:')
    ? parsePkcs11Uri(request.token)
    : { token: request.token };
  return { label, tokenUri };
}

/** The URI of a key made (or found) by `key generate`: token label, object label and id, serial and module if named. */
function generatedUri(
  session: TokenSession,
  request: GenerateRequest,
  tokenUri: Pkcs11Uri,
  label: string,
  id: Buffer,
): string {
  const uri: Pkcs11Uri = { token: session.token.label, object: label, id };
  if (tokenUri.serial !== undefined) uri.serial = tokenUri.serial;
  // module-path goes into the URI only when the user named the module for this key.
  const modulePath = request.module ?? tokenUri.modulePath;
  if (modulePath !== undefined) uri.modulePath = modulePath;
  return formatPkcs11Uri(uri);
}

/** Sign and verify once with a key pair before anyone records it. */
async function selfTest(
  uriString: string,
  publicKey: Key,
  scheme: Scheme,
  session: TokenSession,
  privateKey: Handle,
  mechs: Set<number>,
): Promise<void> {
  const signer = new Pkcs11Signer(
    uriString,
    publicKey,
    scheme,
    session,
    privateKey,
    signMechanism(scheme, mechs) as SignMechanism,
    false,
    false,
    () => Promise.reject(new TufsignError('INTERNAL', 'a new key does not need context login')),
  );
  try {
    await signer.sign(Buffer.from('tufsign key generation self-test'));
  } finally {
    await signer.close();
  }
}

/**
 * `key generate` re-run after a kill (ADR 0007): the key pair is made on the token before the public key file is
 * written, so a kill can leave a key labelled LABEL without its public file. After the login (the PIN is the
 * proof that the operator may use this token), a complete pair under the label — one public and one private
 * object with the same id, of the requested scheme, that signs and verifies — is that key: it is returned
 * (`resumed`) and no second key is made. Nothing under the label: undefined (generate a new one). Anything else
 * under the label (another scheme, several keys, a half-made pair) is refused, never replaced.
 */
async function resumeGeneratePkcs11(request: GenerateRequest, options: OpenOptions): Promise<GeneratedKey | undefined> {
  const { label, tokenUri } = generateTarget(request);
  const session = openSession(tokenUri, options, request.module);
  try {
    await ensureLoggedIn({ session, uri: tokenUri, options });
    const pubs = findKeys(session, CKO_PUBLIC_KEY, { object: label });
    const privs = findKeys(session, CKO_PRIVATE_KEY, { object: label });
    if (pubs.length === 0 && privs.length === 0) return undefined;
    const [pub] = pubs;
    const [priv] = privs;
    const journal =
      request.journalDir === undefined ? undefined : pkcs11JournalPath(request.journalDir, session.token.serial, label);
    // a kill during the journal's atomic write leaves its temp file (the caller holds the generation lock)
    if (journal !== undefined) removeAtomicWriteLeftovers(journal);
    if (pubs.length !== 1 || privs.length !== 1 || pub === undefined || priv === undefined || !pub.id.equals(priv.id)) {
      // Half a pair whose id this folder's journal recorded before C_GenerateKeyPair: the killed run's own
      // unfinished key, useless without its other half. It is removed and the key made again.
      const j = journal === undefined ? undefined : readPkcs11Journal(journal);
      const half = [...pubs, ...privs];
      const own =
        j !== undefined &&
        j.tokenSerial === session.token.serial &&
        j.label === label &&
        j.scheme === request.scheme &&
        pubs.length + privs.length === 1 &&
        half.every((o) => o.id.toString('hex') === j.id);
      if (!own)
        throw labelTaken(session, label, 'not one complete key pair: it was not made by an interrupted `key generate`');
      for (const o of half) {
        try {
          session.api.C_DestroyObject(session.handle, o.handle);
        } catch (e) {
          throw deviceError(e, 'removing half a key pair an interrupted run left', session.token);
        }
      }
      return undefined;
    }
    const pk = readPublicKeyObject(session, pub.handle);
    if (pk === undefined || pk.scheme !== request.scheme)
      throw labelTaken(
        session,
        label,
        `it is ${pk === undefined ? 'not readable' : `a ${pk.scheme} key`}, not ${request.scheme}`,
      );
    const mechs = session.module.mechanisms(session.slot, session.token);
    if (signMechanism(request.scheme, mechs) === undefined)
      throw mechanismUnsupported(session.token, request.scheme, mechs, 'sign');
    const publicKey = tufKey(pk, undefined);
    const uriString = generatedUri(session, request, tokenUri, label, pub.id);
    await selfTest(uriString, publicKey, request.scheme, session, priv.handle, mechs);
    return { uri: uriString, publicKey, resumed: true, ...(journal === undefined ? {} : { journal }) };
  } catch (e) {
    closeIfUnused(session);
    throw e;
  }
}

async function generatePkcs11(request: GenerateRequest, options: OpenOptions): Promise<GeneratedKey> {
  const scheme = request.scheme;
  const { label, tokenUri } = generateTarget(request);
  const session = openSession(tokenUri, options, request.module);
  try {
    const mechs = session.module.mechanisms(session.slot, session.token);
    if (!mechs.has(KEYGEN_MECHANISM[scheme]) || signMechanism(scheme, mechs) === undefined)
      throw mechanismUnsupported(session.token, scheme, mechs, 'generate');
    if (findKeys(session, CKO_PUBLIC_KEY, { object: label }).length > 0) throw labelTaken(session, label);
    if (!session.readWrite) {
      throw new TufsignError('DEVICE_ERROR', `token "${session.token.label}" is write-protected`, {
        suggestion: 'Generate the key on a writable token.',
      });
    }
    await ensureLoggedIn({ session, uri: tokenUri, options });
    if (findKeys(session, CKO_PRIVATE_KEY, { object: label }).length > 0) throw labelTaken(session, label);
    const id = freshId(session);
    // The id goes on disk before the token makes the pair, so a re-run can tell half a pair of its own (ADR 0007).
    const journal =
      request.journalDir === undefined ? undefined : pkcs11JournalPath(request.journalDir, session.token.serial, label);
    if (journal !== undefined) removeAtomicWriteLeftovers(journal);
    if (journal !== undefined)
      writePkcs11Journal(journal, { tokenSerial: session.token.serial, label, id: id.toString('hex'), scheme });
    const { pub, priv } = keyTemplates(scheme, label, id);
    let pair: { publicKey: Handle; privateKey: Handle };
    try {
      pair = session.api.C_GenerateKeyPair(session.handle, { mechanism: KEYGEN_MECHANISM[scheme] }, pub, priv);
    } catch (e) {
      throw deviceError(e, 'generating the key pair', session.token);
    }
    const destroy = (): void => {
      for (const h of [pair.privateKey, pair.publicKey]) {
        try {
          session.api.C_DestroyObject(session.handle, h);
        } catch {
          // best effort: the key is unusable anyway
        }
      }
    };
    try {
      const pk = readPublicKeyObject(session, pair.publicKey);
      if (pk === undefined)
        throw new TufsignError('DEVICE_ERROR', 'the token did not return the new public key', {
          suggestion: 'Check the token with its vendor tools.',
        });
      if (pk.scheme !== scheme)
        throw new TufsignError('DEVICE_ERROR', `the token made a ${pk.scheme} key when asked for ${scheme}`, {
          suggestion: 'Check the token with its vendor tools.',
        });
      const publicKey = tufKey(pk, undefined);
      const uriString = generatedUri(session, request, tokenUri, label, id);
      // Prove the new key signs and verifies before anyone records it.
      await selfTest(uriString, publicKey, scheme, session, pair.privateKey, mechs);
      return { uri: uriString, publicKey, ...(journal === undefined ? {} : { journal }) };
    } catch (e) {
      destroy();
      throw e;
    }
  } catch (e) {
    closeIfUnused(session);
    throw e;
  }
}

export const pkcs11Backend: ReadableKeyBackend<Pkcs11KeyRef> = {
  open: openPkcs11,
  preflight: preflightPkcs11,
  generate: generatePkcs11,
  resumeGenerate: resumeGeneratePkcs11,
  readPublicKey: readPublicKeyPkcs11,
  listDevices: listPkcs11Devices,
};

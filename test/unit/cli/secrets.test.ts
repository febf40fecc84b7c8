/**
 * Passphrases typed on a terminal, one run: each distinct passphrase is typed once, however many key files it
 * opens and however often each is opened (key rotate opens the new key to prove it, then again to sign); a wrong
 * one can be typed again, three tries, and the remembered ones tried first are not the person's tries.
 * The key files are stand-ins that accept one passphrase, opened the way src/keystore/file opens a key file.
 */
import { createSecretsHandler, PASSPHRASE_TRIES } from '../../../src/cli/secrets';
import type { Prompter } from '../../../src/cli/prompter';
import type { SecretsHandler } from '../../../src/keystore/signer';

/** A terminal where the person types `answers` in order; it records the prompts and the notices. */
function terminal(answers: string[]): { handler: SecretsHandler; prompts: string[]; notices: string[] } {
  const prompts: string[] = [];
  const notices: string[] = [];
  const prompter: Prompter = {
    interactive: true,
    secret: (message) => {
      prompts.push(message);
      const next = answers.shift();
      return next === undefined ? Promise.reject(new Error(`unexpected prompt: ${message}`)) : Promise.resolve(next);
    },
    confirm: () => Promise.reject(new Error('no confirmation expected')),
    input: () => Promise.reject(new Error('no input expected')),
    select: () => Promise.reject(new Error('no choice expected')),
  };
  const handler = createSecretsHandler({ env: {}, prompter, notify: (m) => notices.push(m) });
  return { handler, prompts, notices };
}

/** Open key file `label` whose passphrase is `passphrase`, retrying as the file keystore does. */
async function open(handler: SecretsHandler, label: string, passphrase: string): Promise<'opened' | 'refused'> {
  for (let attempt = 1; ; attempt++) {
    const secret = await handler.getSecret(
      attempt === 1 ? { kind: 'passphrase', label } : { kind: 'passphrase', label, attempt },
    );
    const right = secret.toString('utf8') === passphrase;
    secret.fill(0);
    if (right) return 'opened';
    if (handler.mayRetry?.({ kind: 'passphrase', label, attempt }) !== true) return 'refused';
  }
}

describe('passphrases typed on a terminal', () => {
  it('each distinct passphrase is typed once per run, whatever the order and however often a key is opened', async () => {
    const t = terminal(['p-new', 'p-init']);
    // key rotate: the new key proved, root signs, the new key signs snapshot, timestamp signs (init's passphrase)
    expect(await open(t.handler, 'file:keys/snapshot-2.pem', 'p-new')).toBe('opened');
    expect(await open(t.handler, 'file:keys/root-1.pem', 'p-init')).toBe('opened');
    expect(await open(t.handler, 'file:keys/snapshot-2.pem', 'p-new')).toBe('opened');
    expect(await open(t.handler, 'file:keys/timestamp-1.pem', 'p-init')).toBe('opened');
    expect(await open(t.handler, 'file:keys/targets-1.pem', 'p-init')).toBe('opened');
    expect(t.prompts).toEqual(['Passphrase for file:keys/snapshot-2.pem', 'Passphrase for file:keys/root-1.pem']);
  });

  it('a wrong passphrase is typed again: three tries of the person’s, after the remembered ones', async () => {
    const t = terminal(['p-a', 'p-b', 'typo-1', 'typo-2', 'p-c']);
    expect(await open(t.handler, 'file:a.pem', 'p-a')).toBe('opened');
    expect(await open(t.handler, 'file:b.pem', 'p-b')).toBe('opened');
    // p-b and p-a are tried first (not the person's tries); then typo-1, typo-2 and p-c on the third try
    expect(await open(t.handler, 'file:c.pem', 'p-c')).toBe('opened');
    expect(t.prompts.filter((p) => p === 'Passphrase for file:c.pem')).toHaveLength(PASSPHRASE_TRIES);
    // each of the person's tries at c was preceded by a notice saying why they are asked (again)
    expect(t.notices.filter((n) => n.includes('file:c.pem'))).toHaveLength(PASSPHRASE_TRIES);
    // the typos were dropped: a and b still open without a prompt, and c with the one typed last
    expect(await open(t.handler, 'file:a.pem', 'p-a')).toBe('opened');
    expect(await open(t.handler, 'file:c.pem', 'p-c')).toBe('opened');
    expect(t.prompts).toHaveLength(5);
  });

  it('three wrong tries refuse the key; the next key is asked afresh', async () => {
    const t = terminal(['w1', 'w2', 'w3', 'p-d']);
    expect(await open(t.handler, 'file:c.pem', 'p-c')).toBe('refused');
    expect(t.prompts).toHaveLength(PASSPHRASE_TRIES);
    expect(await open(t.handler, 'file:d.pem', 'p-d')).toBe('opened');
    expect(t.prompts).toHaveLength(PASSPHRASE_TRIES + 1);
  });
});

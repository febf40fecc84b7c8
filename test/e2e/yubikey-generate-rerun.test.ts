/**
 * `key generate --backend yubikey` SIGKILLed at three exact moments, then re-run with the same arguments, through
 * the built CLI, pcscd and a virtual YubiKey (ADR 0007). The emulator holds one command (`hold`), so the kill lands
 * at a known point however loaded the machine is:
 * - before GENERATE reaches the card (the journal is written, the slot still empty): the re-run makes the key
 *   (a command already sent is still run by a card whose client died, so the card drops it here);
 * - after the card made the key, its answer withheld (the journal has no public key): the re-run finds the key,
 *   checks it was made on the card as asked, and finishes it — no second key;
 * - while the attestation is read (the key is made and journalled, its public key file not yet written).
 * Every re-run exits 0, writes the public key file of the key in the slot and leaves no journal. A slot holding
 * a key no journal here recorded is still refused (SLOT_IN_USE). Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, TEST_PASSPHRASE } from '../helpers/cli';
import { cardCli, describeWithVirtualCards, useVirtualCardLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';

jest.setTimeout(120_000);

describeWithVirtualCards('key generate --backend yubikey killed at known moments, then re-run', () => {
  const lab = useVirtualCardLab();
  const cli = cardCli(lab);
  const env = (): Record<string, string> => ({ TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile });
  const gen = (serial: number): string[] =>
    yubikeyGenerateArgs({
      serial,
      pinPolicy: 'always',
      touchPolicy: 'always',
      publicOut: `${serial}.pub.json`,
    });

  /** Run `args`, wait until the card holds the chosen command, SIGKILL the run, then let the card answer. */
  async function killAtHold(args: string[], cwd: string, holdFile: string): Promise<void> {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: '1', ...env() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, signal) => r(signal)));
    const end = Date.now() + 60_000;
    while (!existsSync(holdFile)) {
      if (child.exitCode !== null) throw new Error(`the run ended before the card held it: ${stderr}`);
      if (Date.now() > end) throw new Error('the card never held the command');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    rmSync(holdFile);
  }

  /** The re-run, retried only while pcscd still cleans up after the killed client (the card is briefly busy). */
  async function rerun(args: string[], cwd: string) {
    for (let i = 0; ; i++) {
      const r = cli([...args, '--json'], {}, cwd);
      const busy = r.status === 6 && (r.json() as { error: { details?: { pcsc?: string } } }).error.details?.pcsc;
      if (busy !== '0x8010000b' || i >= 50) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  const slotKeyid = (serial: number, cwd: string): string => {
    const r = cli(['key', 'show', `yubikey:serial=${serial};slot=9c`, '--json'], {}, cwd);
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    return (r.json() as { keyid: string }).keyid;
  };

  const moments = [
    // the process dies before GENERATE goes out: the card never runs it
    { at: 'drop:47', what: 'before GENERATE reaches the card', keyMade: false },
    { at: 'after:47', what: 'after the card made the key, its answer withheld', keyMade: true },
    { at: 'after:f9', what: 'while the attestation is read, before the public key file', keyMade: true },
  ] as const;

  for (const [i, m] of moments.entries()) {
    it(`killed ${m.what}: the re-run exits 0 with the key in the slot, its public key file, no journal`, async () => {
      const serial = 31000001 + i;
      const dir = join(lab.dir, `m${i}`);
      mkdirSync(dir);
      const holdFile = join(lab.dir, `hold-${i}`);
      const card = await lab.insert(0, { serial, seed: `rerun-${i}`, hold: { at: m.at, file: holdFile } });
      try {
        await killAtHold(gen(serial), dir, holdFile);
        expect(existsSync(join(dir, `${serial}.pub.json`))).toBe(false);
        expect(readdirSync(dir)).toContain(`.tufsign-generate-yubikey-${serial}-9c.json`);
        // the key the killed run made (a second GENERATE would replace it, and the re-run would report another)
        const made = m.keyMade ? slotKeyid(serial, dir) : undefined;
        const again = await rerun(gen(serial), dir);
        if (again.status !== 0) throw new Error(`re-run exited ${again.status}: ${again.stdout}${again.stderr}`);
        const out = again.json() as { keyid: string; uri: string; resumed?: boolean };
        expect(out.resumed).toBe(m.keyMade ? true : undefined);
        expect(out.keyid).toBe(made ?? slotKeyid(serial, dir));
        const pub = JSON.parse(readFileSync(join(dir, `${serial}.pub.json`), 'utf8')) as {
          keyid: string;
          attestation: { serial: number; pinPolicy: string; touchPolicy: string };
        };
        expect(pub.keyid).toBe(out.keyid);
        expect(pub.attestation).toMatchObject({ serial, pinPolicy: 'always', touchPolicy: 'always' });
        expect(readdirSync(dir).filter((n) => n.startsWith('.tufsign-generate-'))).toEqual([]);
        if (i !== moments.length - 1) return;
        // once more: finished, nothing made
        expect((await rerun(gen(serial), dir)).json()).toMatchObject({ keyid: out.keyid, resumed: true });
        // from a folder without its journal or public key file, the slot holds someone else's key: refused, kept
        const elsewhere = join(lab.dir, 'elsewhere');
        mkdirSync(elsewhere);
        const refused = await rerun(gen(serial), elsewhere);
        expect(refused.status).toBe(6);
        expect(refused.json().error.code).toBe('SLOT_IN_USE');
        expect(slotKeyid(serial, dir)).toBe(out.keyid);
      } finally {
        await card.remove();
      }
    });
  }
});

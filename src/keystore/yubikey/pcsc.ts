/**
 * PC/SC through the optional `pcsclite` addon (not `@pokusew/pcsclite`, which
 * busy-loops forever when pcscd is down). Loaded on first use; every PC/SC
 * failure becomes NO_READER, PCSCD_NOT_RUNNING, CARD_REMOVED or DEVICE_ERROR.
 */
import { TufsignError } from '../../errors';
import { loadNative } from '../native';
import type { CardTransport } from './piv';

interface CardReader {
  name: string;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_MUTE: number;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_RESET_CARD: number;
  on(event: 'status', cb: (s: { state: number; atr?: Buffer }) => void): unknown;
  on(event: 'error' | 'end', cb: (e?: unknown) => void): unknown;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: unknown, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: unknown, response: Buffer) => void): void;
  close(): void;
}
interface PcscLite {
  on(event: 'reader', cb: (r: CardReader) => void): unknown;
  on(event: 'error', cb: (e: unknown) => void): unknown;
  close(): void;
}
type PcscFactory = () => PcscLite;

const PCSC_HELP = {
  daemon:
    'Start the PC/SC daemon: `sudo systemctl start pcscd` (Linux; on Ubuntu/Fedora also check its polkit rules), or `pcscd -f` in a container.',
  reader:
    'Plug in the YubiKey. If it is plugged in, its smart-card (CCID) interface may be off: `ykman config usb --enable PIV`.',
};

/** Map a pcsclite error (they carry the SCARD code in the message) to a TufsignError. */
export function pcscError(e: unknown, doing: string): TufsignError {
  if (e instanceof TufsignError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = /\((0x[0-9a-fA-F]{8})\)/.exec(msg)?.[1]?.toLowerCase();
  switch (code) {
    case '0x8010001d': // SCARD_E_NO_SERVICE
    case '0x8010001e': // SCARD_E_SERVICE_STOPPED
    case '0x80100003': // SCARD_E_INVALID_HANDLE (daemon went away under us)
      return new TufsignError('PCSCD_NOT_RUNNING', `${doing}: the PC/SC daemon (pcscd) is not running`, {
        cause: e,
        suggestion: PCSC_HELP.daemon,
        details: { pcsc: code },
      });
    case '0x8010002e': // SCARD_E_NO_READERS_AVAILABLE
      return new TufsignError('NO_READER', `${doing}: no smart-card reader or YubiKey is connected`, {
        cause: e,
        suggestion: PCSC_HELP.reader,
        details: { pcsc: code },
      });
    case '0x80100069': // SCARD_W_REMOVED_CARD
    case '0x8010000c': // SCARD_E_NO_SMARTCARD
    case '0x80100017': // SCARD_E_READER_UNAVAILABLE
    case '0x80100009': // SCARD_E_UNKNOWN_READER
    case '0x80100068': // SCARD_W_RESET_CARD (someone else reset it: our PIN state is gone)
    case '0x8010000f': // SCARD_E_PROTO_MISMATCH after re-insertion
      return new TufsignError('CARD_REMOVED', `${doing}: the YubiKey was removed or reset`, {
        cause: e,
        suggestion: 'Insert the YubiKey again and rerun the command; nothing was signed.',
        details: { pcsc: code },
      });
    case '0x8010000b': // SCARD_E_SHARING_VIOLATION
      return new TufsignError('DEVICE_ERROR', `${doing}: another program is using the YubiKey`, {
        cause: e,
        suggestion: 'Close other programs that use the YubiKey (gpg-agent, scdaemon, browsers) and try again.',
        details: { pcsc: code },
      });
    default:
      return new TufsignError('DEVICE_ERROR', `${doing}: ${msg}`, {
        cause: e,
        details: code === undefined ? undefined : { pcsc: code },
      });
  }
}

export interface ReaderState {
  name: string;
  present: boolean;
  reader: CardReader;
}

/** One PC/SC context. Always `close()` it: its monitor thread keeps node alive. */
export class PcscContext {
  private readonly readers = new Map<string, ReaderState>();
  private lastEvent = Date.now();
  private failure: unknown;
  private closed = false;
  private readonly statusSeen = new Set<string>();

  private constructor(private readonly pcsc: PcscLite) {
    pcsc.on('reader', (reader) => {
      this.lastEvent = Date.now();
      const state: ReaderState = { name: reader.name, present: false, reader };
      this.readers.set(reader.name, state);
      reader.on('status', (s) => {
        this.lastEvent = Date.now();
        state.present = (s.state & reader.SCARD_STATE_PRESENT) !== 0 && (s.state & reader.SCARD_STATE_MUTE) === 0;
        this.statusSeen.add(reader.name);
      });
      reader.on('end', () => this.readers.delete(reader.name));
      reader.on('error', () => undefined);
    });
    pcsc.on('error', (e) => {
      if (!this.closed) this.failure = e;
    });
  }

  static open(factory?: PcscFactory): PcscContext {
    const make = factory ?? loadNative<PcscFactory>('pcsclite', 'YubiKey support (PC/SC)');
    try {
      return new PcscContext(make());
    } catch (e) {
      throw pcscError(e, 'connecting to PC/SC');
    }
  }

  /**
   * The readers and whether each holds a card. pcsclite reports readers one
   * by one with no end marker, so wait until events stop for a moment.
   */
  async list(settleMs = 60, maxMs = 1500): Promise<ReaderState[]> {
    const start = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 15));
      if (this.failure !== undefined) throw pcscError(this.failure, 'listing smart-card readers');
      const now = Date.now();
      const allStatus = [...this.readers.keys()].every((n) => this.statusSeen.has(n));
      if (this.readers.size === 0 && now - start > 250) break;
      if (this.readers.size > 0 && allStatus && now - this.lastEvent > settleMs) break;
      if (now - start > maxMs) break;
    }
    return [...this.readers.values()];
  }

  async connect(state: ReaderState): Promise<PcscTransport> {
    const reader = state.reader;
    const protocol = await new Promise<number>((resolve, reject) => {
      reader.connect({ share_mode: reader.SCARD_SHARE_EXCLUSIVE, protocol: reader.SCARD_PROTOCOL_T1 }, (err, p) =>
        err ? reject(pcscError(err, `connecting to ${reader.name}`)) : resolve(p),
      );
    });
    return new PcscTransport(reader, protocol);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.readers.values()) {
      try {
        r.reader.close();
      } catch {
        // already gone
      }
    }
    try {
      this.pcsc.close();
    } catch {
      // daemon already gone
    }
  }
}

export class PcscTransport implements CardTransport {
  private open = true;
  constructor(
    private readonly reader: CardReader,
    private readonly protocol: number,
  ) {}

  get name(): string {
    return this.reader.name;
  }

  transmit(apdu: Buffer): Promise<Buffer> {
    if (!this.open) return Promise.reject(new TufsignError('INTERNAL', 'transmit after disconnect'));
    return new Promise((resolve, reject) => {
      this.reader.transmit(apdu, 4096, this.protocol, (err, resp) =>
        err ? reject(pcscError(err, `talking to ${this.reader.name}`)) : resolve(resp),
      );
    });
  }

  /** Disconnect and reset the card, so no PIN-verified state outlives us. */
  disconnect(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.open = false;
    return new Promise((resolve) => {
      try {
        this.reader.disconnect(this.reader.SCARD_RESET_CARD, () => resolve());
      } catch {
        resolve();
      }
    });
  }
}

export { PCSC_HELP };

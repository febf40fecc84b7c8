import { renderAttestation } from '../../../src/cli/key-attest';
import { hasUnsafeText } from '../../../src/cli/safe-text';
import type { AttestResult } from '../../../src/repository/keys';

// Strings in an attestation report come from certificates a key file carries; none may act on the terminal.
const ESC = '\u001b';
const hostile: AttestResult = {
  keyid: 'ab'.repeat(32),
  ok: false,
  violations: [`touch policy is never${ESC}[8m`],
  facts: { serial: 12345678, firmware: `5.4.3${ESC}]0;title\u0007`, slot: '9c', formFactor: `USB-A\r\u202eevil` },
  chain: [`CN=YubiKey PIV Attestation 9c${ESC}[2J`, 'CN=Yubico PIV Attestation', 'CN=Yubico PIV Root CA'],
};

describe('key attest report', () => {
  it('shows every certificate-borne string escaped', () => {
    const lines = renderAttestation(hostile);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(hasUnsafeText(line)).toBe(false);
    // the values stay readable: escaped, not dropped
    expect(lines.join('\n')).toContain('5.4.3');
    expect(lines.join('\n')).toContain('CN=Yubico PIV Root CA');
  });

  it('leaves clean values as they are', () => {
    const clean: AttestResult = { ...hostile, ok: true, violations: [], chain: ['CN=a', 'CN=b'], facts: { serial: 1 } };
    expect(renderAttestation(clean)).toEqual([
      'keyid ' +
        'ab'.repeat(32) +
        ': attested YubiKey 1, firmware ?, slot ?, PIN policy ?, touch policy ?, form factor ?',
      '  chain: CN=a, issued by CN=b',
      'attestation verified',
    ]);
  });
});

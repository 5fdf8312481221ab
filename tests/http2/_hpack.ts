/**
 * Helpers the HPACK tests share.
 *
 * @module
 */

/** Bytes of a hex dump such as RFC 7541's ("8286 8441 ..."); whitespace is ignored. */
export function hex(dump: string): Uint8Array {
  const digits = dump.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) {
    throw new TypeError(`Cannot parse hex dump: ${JSON.stringify(dump)}`);
  }
  return Uint8Array.from(
    { length: digits.length / 2 },
    (_, i) => parseInt(digits.slice(i * 2, i * 2 + 2), 16),
  );
}

/** A random latin1 string of up to `maxLength` characters, mostly printable ASCII. */
export function randomLatin1(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let s = "";
  for (let i = 0; i < length; i++) {
    const code = random() < 0.9 ? 0x20 + Math.floor(random() * 95) : Math.floor(random() * 256);
    s += String.fromCharCode(code);
  }
  return s;
}

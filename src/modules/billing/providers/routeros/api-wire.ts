// The RouterOS API protocol's framing: words are a length prefix and that many bytes; a sentence is words ended by
// the empty word. The prefix is 1 to 5 bytes, its high bits saying how many:
//   0x00–0x7F          1 byte   the length
//   0x80–0x3FFF        2 bytes  length | 0x8000
//   0x4000–0x1FFFFF    3 bytes  length | 0xC00000
//   0x200000–0xFFFFFFF 4 bytes  length | 0xE0000000
//   up to 0xFFFFFFFF   5 bytes  0xF0, then the length as 4 bytes
// all big-endian. A first byte of 0xF8 or more is a control byte RouterOS reserves; none is defined, so it (and
// 0xF1–0xF7, which no length starts with) is a protocol error here. Words are UTF-8 text.
import { RouterError } from './port.ts';

const MAX_LENGTH = 0xffff_ffff;

/** The prefix for a word of `length` bytes. */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_LENGTH) {
    throw new RouterError('protocol', `a word of ${length} bytes cannot be sent`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >> 8) | 0x80, length & 0xff]);
  if (length < 0x20_0000) return Buffer.from([(length >> 16) | 0xc0, (length >> 8) & 0xff, length & 0xff]);
  if (length < 0x1000_0000) {
    return Buffer.from([(length >>> 24) | 0xe0, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  }
  const out = Buffer.alloc(5);
  out[0] = 0xf0;
  out.writeUInt32BE(length, 1);
  return out;
}

/** One sentence as bytes: each word prefixed with its length, then the empty word. */
export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const bytes = Buffer.from(word, 'utf8');
    parts.push(encodeLength(bytes.length), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Reads a length prefix at `at`: the length and the prefix's size, or null when the buffer ends before the prefix
 * does.
 */
export function decodeLength(buf: Buffer, at: number): { length: number; size: number } | null {
  if (at >= buf.length) return null;
  const first = buf[at] as number;
  let size: number;
  if (first < 0x80) size = 1;
  else if (first < 0xc0) size = 2;
  else if (first < 0xe0) size = 3;
  else if (first < 0xf0) size = 4;
  else if (first === 0xf0) size = 5;
  else throw new RouterError('protocol', `unknown control byte 0x${first.toString(16)} from the router`);
  if (at + size > buf.length) return null;
  switch (size) {
    case 1:
      return { length: first, size };
    case 2:
      return { length: ((first & 0x3f) << 8) | (buf[at + 1] as number), size };
    case 3:
      return { length: ((first & 0x1f) << 16) | buf.readUInt16BE(at + 1), size };
    case 4:
      return { length: (first & 0x0f) * 0x100_0000 + buf.readUIntBE(at + 1, 3), size };
    default:
      return { length: buf.readUInt32BE(at + 1), size };
  }
}

/**
 * Turns a byte stream into sentences. Bytes come in chunks of any size; `push` answers the sentences completed by
 * this chunk. Chunks are only joined once the word being waited for is complete, so a long word arriving in many
 * chunks is copied once, not once per chunk.
 */
export class SentenceReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private words: string[] = [];
  private need = 0;

  push(chunk: Buffer): string[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return [];
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    const done: string[][] = [];
    let at = 0;
    this.need = 0;
    for (;;) {
      const prefix = decodeLength(buf, at);
      if (!prefix) break;
      const end = at + prefix.size + prefix.length;
      if (end > buf.length) {
        this.need = end - at;
        break;
      }
      if (prefix.length === 0) {
        if (this.words.length > 0) done.push(this.words);
        this.words = [];
      } else {
        this.words.push(buf.toString('utf8', at + prefix.size, end));
      }
      at = end;
    }
    const rest = buf.subarray(at);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return done;
  }
}

/** The attribute words of a reply (`=name=value`) as a row; the value may itself hold `=`. */
export function attributesOf(words: readonly string[]): Record<string, string> {
  const row: Record<string, string> = {};
  for (const word of words) {
    if (word[0] !== '=') continue;
    const eq = word.indexOf('=', 1);
    if (eq < 0) row[word.slice(1)] = '';
    else row[word.slice(1, eq)] = word.slice(eq + 1);
  }
  return row;
}

/** The `.tag=` of a reply, or null when untagged. */
export function tagOf(words: readonly string[]): string | null {
  for (const word of words) if (word.startsWith('.tag=')) return word.slice(5);
  return null;
}

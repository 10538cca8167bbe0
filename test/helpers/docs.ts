// The `bash` blocks of a Markdown file's section, for the tests that run the README and docs/ walkthroughs as
// written (test/readme.test.ts, test/docs-walkthroughs.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The bash blocks of `file`'s section whose heading starts with `heading` (e.g. `## Billing module`), up to the next
 * heading of the same or a higher level.
 */
export function bashBlocks(file: string, heading: string): string[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start === -1) throw new Error(`${file} has no section ${heading}`);
  const level = heading.match(/^#+/)?.[0].length ?? 2;
  const blocks: string[] = [];
  let block: string[] | undefined;
  let fenced = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) {
      if (!fenced && line === '```bash') block = [];
      else if (fenced && block) {
        blocks.push(`${block.join('\n')}\n`);
        block = undefined;
      }
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      block?.push(line);
      continue;
    }
    // A heading of the same or a higher level ends the section (a `#` inside a code block is a comment).
    const hashes = line.match(/^(#+) /)?.[1]?.length;
    if (hashes !== undefined && hashes <= level) break;
  }
  return blocks;
}

/** A `bash` block of a Markdown file: the heading it is under, the line its fence opens on, its text. */
export interface DocBlock {
  heading: string;
  line: number;
  text: string;
}

/** Names one block: the heading it is under (the start of that line) and a string only that block has. */
export interface BlockKey {
  heading: string;
  has: string;
}

/** Every `bash` block of `file`, in document order. */
export function allBashBlocks(file: string): DocBlock[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  let heading = '';
  let block: { line: number; lines: string[] } | undefined;
  let fenced = false;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('```')) {
      if (!fenced && line === '```bash') block = { line: i + 1, lines: [] };
      else if (fenced && block) {
        blocks.push({ heading, line: block.line, text: `${block.lines.join('\n')}\n` });
        block = undefined;
      }
      fenced = !fenced;
      continue;
    }
    if (fenced) block?.lines.push(line);
    else if (/^#+ /.test(line)) heading = line;
  }
  return blocks;
}

const matches = (b: DocBlock, k: BlockKey) => b.heading.startsWith(k.heading) && b.text.includes(k.has);

/**
 * Pairs each block with the one key (of the run table or the not-run table) that names it. Problems: a block no key
 * names (a new block nobody decided about), a block two keys name, a key that names no block (a stale entry).
 */
export function pairBlocks<K extends BlockKey>(
  file: string,
  blocks: DocBlock[],
  keys: K[],
): {
  pairs: { block: DocBlock; key: K }[];
  problems: string[];
} {
  const pairs: { block: DocBlock; key: K }[] = [];
  const problems: string[] = [];
  for (const block of blocks) {
    const named = keys.filter((k) => matches(block, k));
    const where = `${file}:${block.line} (${block.heading}, "${block.text.split('\n')[0]}")`;
    if (named.length === 0) problems.push(`${where} is neither run nor listed with a reason`);
    else if (named.length > 1) problems.push(`${where} is named by ${named.length} entries`);
    else pairs.push({ block, key: named[0] as K });
  }
  for (const key of keys) {
    if (!blocks.some((b) => matches(b, key)))
      problems.push(`no block of ${file} under "${key.heading}" has "${key.has}"`);
  }
  return { pairs, problems };
}

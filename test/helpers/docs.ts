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

// A child process's output, read for its whole life. A pipe nobody reads holds 64 KB; after that the child's next
// write blocks, and a server logging synchronously (pino's default) stops answering altogether. Every test that
// spawns a long-lived process with piped output reads it through here and keeps the tail for failure messages.
import type { ChildProcess } from 'node:child_process';

export interface Drained {
  /** The last `keep` characters the child wrote to stdout and stderr, interleaved as they arrived. */
  tail(): string;
}

export function drain(child: ChildProcess, keep = 20_000): Drained {
  let text = '';
  const add = (chunk: Buffer | string) => {
    text = (text + chunk.toString()).slice(-keep);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return { tail: () => text };
}

// Across the whole run: every log line any test app wrote is checked for every credential the test helpers made
// (passwords, access and refresh tokens, API keys). The helpers note each secret and each app's log in a directory
// of this run; after the last file, one is found in the other or the run fails.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'loket-test-secrets-'));
  process.env.LOKET_TEST_SECRETS_DIR = dir;
  return () => {
    const files = readdirSync(dir);
    const read = (prefix: string) =>
      files.filter((f) => f.startsWith(prefix)).map((f) => readFileSync(join(dir, f), 'utf8'));
    const secrets = new Set(
      read('secrets-')
        .flatMap((t) => t.split('\n'))
        .filter((s) => s.length >= 8),
    );
    const logs = read('log-');
    rmSync(dir, { recursive: true, force: true });
    const leaked = [...secrets].filter((s) => logs.some((l) => l.includes(s)));
    if (leaked.length > 0) {
      throw new Error(
        `${leaked.length} credential(s) made by the tests appear in the logs, e.g. ${leaked[0]?.slice(0, 6)}…`,
      );
    }
    process.stdout.write(
      `\nlog check: ${secrets.size} credentials made by the tests, none in ${logs.reduce((n, l) => n + l.length, 0)} bytes of log\n`,
    );
  };
}

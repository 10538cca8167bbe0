// The house rules the module kit exists for, checked on the source tree: the core names no module, modules do not
// import each other, module files stay small, and handlers read their typed request instead of casting it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../src/config.ts';

const ROOT = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const core = files(join(ROOT, 'src/core'));
const modules = files(join(ROOT, 'src/modules')).filter((f) => !f.endsWith('src/modules/index.ts'));
const rel = (f: string) => relative(ROOT, f);

describe('architecture', () => {
  it('no module name appears under src/core (code or comments)', () => {
    const names = new RegExp(`\\b(${ALL_MODULES.join('|')})\\b`, 'i');
    const hits = core.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (names.test(line) ? [`${rel(f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('the core imports no module, and no module imports another', () => {
    const bad: string[] = [];
    for (const f of core) {
      for (const m of readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)) {
        if (m[1]?.includes('/modules/')) bad.push(`${rel(f)} imports ${m[1]}`);
      }
    }
    for (const f of modules) {
      const own = rel(f).split('/')[2];
      for (const m of readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)) {
        const target = m[1] ?? '';
        if (!target.startsWith('.')) continue;
        const resolved = rel(join(f, '..', target));
        if (resolved.startsWith('src/modules/') && resolved.split('/')[2] !== own)
          bad.push(`${rel(f)} imports ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no module file is over 400 lines', () => {
    const long = modules
      .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });

  it('module handlers read the typed request: no casts of body, params, query or auth', () => {
    const cast = /\breq(uest)?\.(body|params|query)\s+as\b|\breq(uest)?\.auth!|\breq(uest)?\.auth\s+as\b/;
    const hits = modules.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (cast.test(line) ? [`${rel(f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});

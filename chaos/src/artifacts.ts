import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fleet } from './fleet';
import { LAG_COUNT_CAP, type Sample } from './observe';

/**
 * Evidence for a failed check: every child's stdout lines and stderr, and the backlog samples,
 * written to a directory under the system temp dir (kept after the run, printed in the report).
 */
export function writeArtifacts(fleet: Fleet, samples: readonly Sample[], startedAt: number, seed: number): string {
  const dir = join(tmpdir(), `fuel-code-chaos-${seed}-${startedAt}`);
  mkdirSync(dir, { recursive: true });
  for (const p of fleet.procs) {
    const base = join(dir, `${p.role}-${p.name}-${p.pid}`);
    writeFileSync(`${base}.log`, p.proc.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    if (p.proc.stderr) writeFileSync(`${base}.stderr`, p.proc.stderr);
  }
  const rows = samples.map((s) => `${((s.t - startedAt) / 1000).toFixed(2)}\t${s.pending}\t${s.counted && s.lag >= LAG_COUNT_CAP ? `>=${s.lag}` : s.lag}${s.counted ? '*' : ''}`);
  writeFileSync(join(dir, 'backlog.tsv'), ['# lag* = counted with XRANGE after the last-delivered-id (XINFO GROUPS said null or another number)', 'seconds\tpending\tlag', ...rows].join('\n') + '\n');
  return dir;
}

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MigrationError } from './errors';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

/** Shipped beside dist/ and src/, so the same path works from sources and from a build. */
export const DEFAULT_MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

const FILE_PATTERN = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** The numbered `.sql` files of a folder, in order; a stray or doubled number is an error. */
export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of entries) {
    const match = FILE_PATTERN.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new MigrationError(`migration file ${file} is not named NNN_name.sql`);
    }
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1];
    const cur = migrations[i];
    if (prev && cur && prev.version === cur.version) {
      throw new MigrationError(`migrations ${prev.file} and ${cur.file} share version ${cur.version}`);
    }
  }
  return migrations;
}

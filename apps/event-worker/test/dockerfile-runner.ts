import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * A small Dockerfile interpreter for tests on a machine without a Docker engine: it replays
 * a Dockerfile's stages in a temp dir, one folder per stage standing in for that stage's
 * filesystem root. FROM, ARG, WORKDIR, COPY (context or --from=stage), RUN, ENV are carried
 * out; USER, EXPOSE, HEALTHCHECK and CMD are recorded. RUN commands run with /bin/sh in the
 * mapped WORKDIR, so they must not name absolute paths (the Dockerfiles keep to that).
 */

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const logical: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== undefined && trimmed.startsWith('#')) return; // comment inside a continuation
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1) : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text: part, line: i + 1 };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text.trim());
    if (match) logical.push({ op: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim(), line: pending.line });
    pending = undefined;
  });

  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of logical) {
    if (ins.op === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = ins.args.split('=', 2);
      args.set(name, value);
    } else if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot parse FROM ${ins.args}`);
      const image = (m[1] ?? '').replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '');
      stages.push({ name: m[2] ?? String(stages.length), image, instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`line ${ins.line}: ${ins.op} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** `["a", "b"]` exec form → argv. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return parsed as string[];
}

export interface StageResult {
  name: string;
  image: string;
  /** The folder standing in for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  /** The HEALTHCHECK's options and exec-form command. */
  healthcheck?: { options: string; cmd: string[] };
  runs: string[];
}

export interface RunOptions {
  context: string;
  tmp: string;
  /** Called for `RUN npm install -g <pkg>`: check the pin and make the tool available instead. */
  onGlobalInstall?: (spec: string) => void;
  /** Environment for RUN commands on top of this process's (e.g. npm_config_prefer_offline). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/** Docker-style .dockerignore matching for the patterns this repo uses (`**`, `*`, plain names). */
function ignoreMatcher(context: string): (rel: string) => boolean {
  const file = path.join(context, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
    : [];
  const regexes = patterns.map((p) => {
    const body = p
      .replace(/^\/+/, '')
      .split('**/')
      .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('(?:.*/)?');
    return new RegExp(`^${body}(?:/.*)?$`);
  });
  return (rel) => regexes.some((r) => r.test(rel));
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => {
      log(`RUN ${command.slice(0, 120)} → exit ${code}`);
      if (code === 0) resolve();
      else reject(new Error(`RUN ${command}\nexited ${code} in ${cwd}:\n${output}`));
    });
  });
}

/** Replay every stage in order; resolves with each stage's result (the last is the image). */
export async function runDockerfile(parsed: ParsedDockerfile, o: RunOptions): Promise<StageResult[]> {
  const log = o.log ?? (() => undefined);
  const ignored = ignoreMatcher(o.context);
  const results: StageResult[] = [];
  const byName = new Map<string, StageResult>();
  // The top-level folders the Dockerfile lays out (WORKDIR, COPY): a RUN must not name them.
  const tops = new Set<string>();
  for (const ins of parsed.stages.flatMap((st) => st.instructions)) {
    if (ins.op !== 'WORKDIR' && ins.op !== 'COPY') continue;
    for (const m of ins.args.matchAll(/(?:^|\s|=)\/([\w.-]+)/g)) tops.add(m[1] ?? '');
  }
  const stagePaths = new RegExp(`(^|[^\\w.])/(${[...tops].map((t) => t.replace(/\./g, '\\.')).join('|') || '(?!)'})(/|\\b)`);

  for (const stage of parsed.stages) {
    const root = path.join(o.tmp, `stage-${stage.name}`);
    mkdirSync(root, { recursive: true });
    const st: StageResult = { name: stage.name, image: stage.image, root, workdir: '/', env: {}, runs: [] };
    const inRoot = (p: string) => path.join(root, path.posix.resolve(st.workdir, p));

    for (const ins of stage.instructions) {
      switch (ins.op) {
        case 'WORKDIR':
          st.workdir = path.posix.resolve(st.workdir, ins.args);
          mkdirSync(inRoot('.'), { recursive: true });
          break;
        case 'ENV':
          for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) st.env[m[1] ?? ''] = (m[2] ?? '').replace(/^"|"$/g, '');
          break;
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const flags = words.filter((w) => w.startsWith('--'));
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop();
          if (!dest || paths.length === 0) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
          const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
          const source = from === undefined ? undefined : byName.get(from);
          if (from !== undefined && !source) throw new Error(`line ${ins.line}: COPY --from=${from}: no such earlier stage`);
          const destPath = inRoot(dest);
          for (const src of paths) {
            const srcPath = source ? path.join(source.root, src) : path.join(o.context, src);
            if (!existsSync(srcPath)) throw new Error(`line ${ins.line}: COPY source ${src} does not exist${from ? ` in stage ${from}` : ' in the context'}`);
            if (statSync(srcPath).isDirectory()) {
              // A directory's contents go into the destination (Docker semantics), merged.
              mkdirSync(destPath, { recursive: true });
              for (const entry of readdirSync(srcPath)) {
                cpSync(path.join(srcPath, entry), path.join(destPath, entry), {
                  recursive: true,
                  verbatimSymlinks: true,
                  force: true,
                  filter: (p) => source !== undefined || !ignored(path.relative(o.context, p).split(path.sep).join('/')),
                });
              }
            } else {
              const target = dest.endsWith('/') || paths.length > 1 ? path.join(destPath, path.basename(src)) : destPath;
              mkdirSync(path.dirname(target), { recursive: true });
              cpSync(srcPath, target, { force: true });
            }
          }
          break;
        }
        case 'RUN': {
          const command = ins.args;
          const global = /^npm install -g (\S+)$/.exec(command);
          if (global) {
            o.onGlobalInstall?.(global[1] ?? '');
            st.runs.push(command);
            break;
          }
          if (stagePaths.test(command)) throw new Error(`line ${ins.line}: RUN names a stage's absolute path; keep RUN commands relative to WORKDIR: ${command}`);
          await run(command, inRoot('.'), { ...process.env, ...o.env, ...st.env }, log);
          st.runs.push(command);
          break;
        }
        case 'USER':
          st.user = ins.args;
          break;
        case 'CMD':
          st.cmd = execForm(ins.args);
          break;
        case 'HEALTHCHECK': {
          const m = /^(.*?)\bCMD\s+(\[.*\])$/.exec(ins.args);
          if (!m) throw new Error(`line ${ins.line}: HEALTHCHECK must use the exec form CMD [...]`);
          st.healthcheck = { options: (m[1] ?? '').trim(), cmd: execForm(m[2] ?? '[]') };
          break;
        }
        case 'EXPOSE':
        case 'LABEL':
        case 'ARG':
          break;
        default:
          throw new Error(`line ${ins.line}: ${ins.op} is not supported by the test's Dockerfile runner`);
      }
    }
    results.push(st);
    byName.set(stage.name, st);
  }
  return results;
}

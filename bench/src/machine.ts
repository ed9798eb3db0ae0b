import os from 'node:os';
import type { Shared } from './infra';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemMb: number;
  platform: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  loadAvg1mAtStart: number;
  loadAvg1mAtEnd?: number;
}

export const loadAvg = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

export async function machineInfo(shared: Shared): Promise<MachineInfo> {
  const cpus = os.cpus();
  const [version] = await shared.admin<{ server_version: string }[]>`SHOW server_version`;
  const settings = await shared.admin<{ name: string; setting: string; unit: string | null }[]>`
    SELECT name, setting, unit FROM pg_settings
    WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'work_mem', 'max_connections')
    ORDER BY name`;
  const info = await shared.redis.info('server');
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: version?.server_version ?? 'unknown',
    postgresSettings: Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} (${s.unit})` : s.setting])),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    loadAvg1mAtStart: loadAvg(),
  };
}

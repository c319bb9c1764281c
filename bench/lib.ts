// Shared pieces of the benchmarks: results (figure beside the limit measured in the same run),
// where they are saved, and the machine they came from.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/harness/servers.js';

export interface BenchResult {
  scenario: string;
  figure: number;
  unit: string;
  /** The physical limit measured in the same run (e.g. raw COPY into the same table). */
  limit: number;
  limitName: string;
  ratio: number;
  /** Met when figure ≥ goal.figure and ratio ≥ goal.ratio, or both ≤ with `lowerIsBetter` (memory). */
  goal: { figure: number; ratio: number; lowerIsBetter?: boolean };
  met: boolean;
  rows: number;
  machine: { cpus: number; model: string; memoryGiB: number; node: string };
  at: string;
}

export function result(r: Omit<BenchResult, 'ratio' | 'met' | 'machine' | 'at'>): BenchResult {
  const ratio = r.figure / r.limit;
  return {
    ...r,
    ratio: Math.round(ratio * 1000) / 1000,
    met: r.goal.lowerIsBetter ? r.figure <= r.goal.figure && ratio <= r.goal.ratio : r.figure >= r.goal.figure && ratio >= r.goal.ratio,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '?', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    at: new Date().toISOString(),
  };
}

export function save(r: BenchResult): string {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.scenario}-${r.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used so far by every process of this command name (`postgres`, `mariadbd`), the
 * exited children they waited for included (a Postgres backend that ended). Differences over a
 * scenario are meaningful on a quiet machine.
 */
export function commandCpuSeconds(command: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/**
 * Starts counting the CPU of my2pg (a process) and of the servers (by command name); the result
 * gives each per row since, their sum, and the rate that sum allows on this machine's cores.
 */
export function cpuBudget(pid: number, servers = ['mariadbd', 'postgres']): (rows: number) => string {
  const at = () => [cpuSeconds(pid), ...servers.map(commandCpuSeconds)];
  const from = at();
  return (rows) => {
    const us = at().map((s, i) => ((s - from[i]) * 1e6) / rows);
    const all = us.reduce((a, b) => a + b, 0);
    const parts = ['my2pg', ...servers].map((name, i) => `${name} ${us[i].toFixed(1)}`).join(', ');
    const cores = os.cpus().length;
    return `CPU µs per row: ${parts}; ${all.toFixed(1)} in all, at most ${Math.round((cores * 1e6) / all)} rows/s on ${cores} cores`;
  };
}

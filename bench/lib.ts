// Shared pieces of the benchmarks: results (figure beside the limit measured in the same run),
// where they are saved, and the machine they came from.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

// `npm run bench [-- scenario…]`: runs the benchmark scenarios, prints one JSON result each,
// saves them under bench/results/ and ends with a summary table. BENCH_ROWS sets the size
// (default 1,000,000).

import { save, type BenchResult } from './lib.js';
import { applyScenario } from './scenarios/apply.js';
import { bootstrapScenario } from './scenarios/bootstrap.js';
import { captureScenario } from './scenarios/capture.js';
import { embeddedScenario } from './scenarios/embedded.js';
import { lagScenario } from './scenarios/lag.js';
import { liveScenario } from './scenarios/live.js';
import { memoryScenario, runMemory } from './scenarios/memory.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SCENARIOS: Record<string, () => Promise<BenchResult | BenchResult[]>> = {
  live: () => liveScenario(),
  'live-kafka': () => liveScenario('kafka'),
  'live-run': () => liveScenario('run'),
  capture: () => captureScenario(rows),
  'apply-insert': () => applyScenario('insert', rows),
  'apply-update': () => applyScenario('update', rows),
  bootstrap: () => bootstrapScenario(rows),
  embedded: () => embeddedScenario(rows),
  lag: () => lagScenario(),
  'lag-big-tx': () => lagScenario(Number(process.env.BENCH_BIG_TX_ROWS ?? 1_000_000)),
  memory: () => memoryScenario(rows),
  'memory-run': () => runMemory(rows),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const names = wanted.length > 0 ? wanted : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const results: BenchResult[] = [];
  for (const name of names) {
    for (const r of [await SCENARIOS[name]()].flat()) {
      save(r);
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  console.log('\nscenario            figure          limit           ratio  goal');
  for (const r of results) {
    console.log(
      `${r.scenario.padEnd(19)} ${`${r.figure} ${r.unit}`.padEnd(15)} ${String(r.limit).padEnd(15)} ${r.ratio.toFixed(3).padEnd(6)} ${r.met ? 'met' : `not met (${r.goal.lowerIsBetter ? '≤' : '≥'}${r.goal.figure}, ${r.goal.lowerIsBetter ? '≤' : '≥'}${r.goal.ratio})`}`,
    );
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

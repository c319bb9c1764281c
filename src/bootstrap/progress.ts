// Bootstrap progress people can watch: a bar per table on a terminal, structured log lines
// otherwise (docs/BOOTSTRAP.md).

import type { Logger } from '../core/logger.js';

export interface ProgressSample {
  table: string;
  rowsDone: number;
  rowsEstimated: number;
  chunksDone: number;
  chunksPlanned: number;
}

export class Progress {
  private started = Date.now();
  /** Rows done before this process started (a resumed bootstrap): not part of the rate. */
  private baseline = 0;
  private lastLog = 0;
  private lastLineLength = 0;

  constructor(
    private readonly log: Logger,
    private readonly out: NodeJS.WriteStream | null = process.stderr.isTTY ? process.stderr : null,
    private readonly logEveryMs = 5000,
  ) {}

  begin(rowsAlreadyDone = 0): void {
    this.started = Date.now();
    this.baseline = rowsAlreadyDone;
  }

  update(s: ProgressSample, final = false): void {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = Math.max(s.rowsDone - this.baseline, 0) / secs;
    const total = Math.max(s.rowsEstimated, s.rowsDone);
    const eta = rate > 0 ? Math.max(total - s.rowsDone, 0) / rate : null;
    if (this.out) {
      this.draw(s, total, rate, eta, final);
    } else if (final || Date.now() - this.lastLog >= this.logEveryMs) {
      this.lastLog = Date.now();
      this.log.info(
        { rows_done: s.rowsDone, rows_estimated: s.rowsEstimated, chunks_done: s.chunksDone, chunks_planned: s.chunksPlanned,
          rows_per_s: Math.round(rate), eta_s: eta === null ? null : Math.round(eta) },
        final ? 'bootstrap table done' : 'bootstrap progress',
      );
    }
  }

  private draw(s: ProgressSample, total: number, rate: number, eta: number | null, final: boolean): void {
    const width = 30;
    const frac = total > 0 ? Math.min(s.rowsDone / total, 1) : final ? 1 : 0;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const etaText = final ? 'done' : eta === null ? 'eta ?' : `eta ${formatDuration(eta)}`;
    const line = `${s.table} [${bar}] ${s.rowsDone.toLocaleString('en')}/${total.toLocaleString('en')} rows ` +
      `${Math.round(rate).toLocaleString('en')} rows/s ${etaText}`;
    this.out!.write(`\r${line}${' '.repeat(Math.max(this.lastLineLength - line.length, 0))}${final ? '\n' : ''}`);
    this.lastLineLength = final ? 0 : line.length;
  }
}

function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

// Log lines reach stdout even when a worker thread exits right after writing them (the CLI runs
// on one, and logs `stopping` or its fatal error just before it exits).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const loggerUrl = new URL('../../src/core/logger.js', import.meta.url).href;
const child = `
import { Worker } from 'node:worker_threads';
const w = new Worker(\`import(${JSON.stringify(loggerUrl)}).then(({ createLogger }) => { createLogger('info').info('last words'); process.exit(0); })\`, { eval: true });
w.on('exit', (code) => process.exit(code));
`;

test('a line logged on a worker thread just before it exits is not lost, stdout being a pipe', async () => {
  let lost = 0;
  const runs = 40;
  for (let i = 0; i < runs; i++) {
    const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => p.on('close', r));
    assert.equal(code, 0);
    if (!out.includes('"msg":"last words"')) lost++;
  }
  assert.equal(lost, 0, `${lost} of ${runs} exits lost their last line`);
});

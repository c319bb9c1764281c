import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenTransactionLog } from '../../src/apply/open-transaction-log.js';

test('the open transaction log gives back what was appended, in order and in pages, until cleared', async () => {
  const log = new OpenTransactionLog();
  const messages = [
    { value: '{"database":"d","table":"t","type":"insert","data":{"s":"a\\tb"}}', part: 'topic:0', position: '17' },
    { value: 'not JSON\nwith a line break\r and a return', part: 'topic:1', position: '3' },
    { value: '', part: '0', position: '{"tx":{"file":"b.000001","pos":4},"xoffset":0,"commit":false}' },
  ];
  try {
    await log.append(messages.slice(0, 2));
    await log.append(messages.slice(2));
    const pages: unknown[] = [];
    for await (const page of log.replay(2)) pages.push(page);
    assert.deepEqual(pages, [messages.slice(0, 2), messages.slice(2)]);
    await log.clear();
    for await (const page of log.replay(2)) assert.fail(`replayed after clear: ${JSON.stringify(page)}`);
    await log.append(messages.slice(1, 2));
    const again: unknown[] = [];
    for await (const page of log.replay(10)) again.push(...page);
    assert.deepEqual(again, messages.slice(1, 2));
  } finally {
    await log.close();
  }
});

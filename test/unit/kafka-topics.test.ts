import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseTopicPattern, deadLetterTopic, isTemplate, positionsTopic, topicFor, topicPattern } from '../../src/transport/kafka-topics.js';

test('topic templates interpolate database and table, Kafka-safe', () => {
  assert.equal(topicFor('%{database}_%{table}', 'shop', 'orders'), 'shop_orders');
  assert.equal(topicFor('cdc.%{database}.%{table}', 'my db', 'o;rders'), 'cdc.my_db.o_rders');
  assert.ok(isTemplate('x_%{table}'));
  assert.ok(!isTemplate('maxwell'));
  assert.equal(positionsTopic('maxwell'), 'maxwell.my2pg-positions');
  assert.equal(positionsTopic('%{database}_%{table}'), '___.my2pg-positions');
});

test('a template matches its topics and never the positions topic', () => {
  const p = topicPattern('cdc.%{database}.%{table}');
  assert.ok(p.test('cdc.shop.orders'));
  assert.ok(!p.test('cdc.shop'));
  assert.ok(!p.test('other.shop.orders'));
  assert.ok(!p.test(positionsTopic('cdc.%{database}.%{table}')));
  assert.ok(!p.test(deadLetterTopic('cdc.%{database}.%{table}')));
  assert.equal(deadLetterTopic('maxwell'), 'maxwell.my2pg-dead-letters');
  const shop = databaseTopicPattern('%{database}_%{table}', 'shop');
  assert.ok(shop.test('shop_orders'));
  assert.ok(!shop.test('crm_orders'));
});

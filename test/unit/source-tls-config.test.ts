// The source's TLS options: from flags, environment and file like every option, checked at
// start, and turned into the mysql2 options every source connection is made with.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { My2pgError } from '../../src/core/errors.js';
import { sourceConnectionOptions, sourceTlsFromConfig } from '../../src/source/connect.js';

const dir = mkdtempSync(join(tmpdir(), 'my2pg-tls-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');

test('source_ssl_mode defaults to PREFERRED and comes from MY2PG_SOURCE_SSL_MODE in any case', () => {
  assert.equal(loadConfig({ flags: {}, env: {} }).source_ssl_mode, 'PREFERRED');
  const c = loadConfig({ flags: {}, env: { MY2PG_SOURCE_SSL_MODE: 'verify_ca', MY2PG_SOURCE_SSL_CA: ca } });
  assert.equal(c.source_ssl_mode, 'VERIFY_CA');
  assert.equal(c.source_ssl_ca, ca);
  assert.equal(loadConfig({ flags: { 'source-ssl-mode': 'DISABLED' }, env: { MY2PG_SOURCE_SSL_MODE: 'REQUIRED' } }).source_ssl_mode, 'DISABLED');
});

test('invalid TLS settings are CONFIG errors naming the option', () => {
  const fails = (flags: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => loadConfig({ flags, env: {} }), (e: unknown) => e instanceof My2pgError && e.code === 'CONFIG' && pattern.test(e.message));
  fails({ 'source-ssl-mode': 'SOMETIMES' }, /source_ssl_mode: Invalid enum value/);
  fails({ 'source-ssl-mode': 'VERIFY_IDENTITY' }, /source_ssl_ca: source_ssl_mode VERIFY_IDENTITY needs source_ssl_ca/);
  fails({ 'source-ssl-cert': ca }, /source_ssl_key: source_ssl_cert and source_ssl_key go together/);
  const c = loadConfig({ flags: { 'source-ssl-mode': 'VERIFY_CA', 'source-ssl-ca': join(dir, 'missing.pem') }, env: {} });
  assert.throws(() => sourceTlsFromConfig(c), (e: unknown) => e instanceof My2pgError && e.code === 'CONFIG' && /source_ssl_ca: cannot read .*missing\.pem/.test(e.message));
});

test('the mysql2 options of each mode', () => {
  const url = 'mysql://u%40x:p%3Aw@db.example:3307/shop';
  const base = { host: 'db.example', port: 3307, user: 'u@x', password: 'p:w', database: 'shop' };
  const tls = (mode: string, extra: Record<string, string> = {}) => sourceTlsFromConfig(loadConfig({ flags: { 'source-ssl-mode': mode, ...extra }, env: {} }));
  assert.deepEqual(sourceConnectionOptions(url, tls('DISABLED')), base);
  assert.deepEqual(sourceConnectionOptions(url, tls('REQUIRED')), { ...base, ssl: { rejectUnauthorized: false, verifyIdentity: false } });
  const pem = '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n';
  assert.deepEqual(sourceConnectionOptions(url, tls('VERIFY_CA', { 'source-ssl-ca': ca })), { ...base, ssl: { rejectUnauthorized: true, verifyIdentity: false, ca: pem } });
  assert.deepEqual(sourceConnectionOptions(url, tls('VERIFY_IDENTITY', { 'source-ssl-ca': ca })), { ...base, ssl: { rejectUnauthorized: true, verifyIdentity: true, ca: pem } });
  // The server's RSA key: for plain TCP only.
  const withKey = tls('DISABLED', { 'source-rsa-public-key': ca });
  assert.equal(typeof sourceConnectionOptions(url, withKey).authPlugins?.caching_sha2_password, 'function');
  assert.equal(sourceConnectionOptions(url, { ...withKey, mode: 'REQUIRED' }).authPlugins, undefined);
});

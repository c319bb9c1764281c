// Authentication and TLS on the source (docs/OPERATIONS.md "Connecting to the source"): a user
// with a password under caching_sha2_password over TLS and over plain TCP (its RSA key exchange)
// for capture, the schema reader and bootstrap (its chunk threads too) of `my2pg run`; and the
// failures that stop it with exit code 2 and one message saying what to set.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { assertReplicaConverges, pipelineFixture } from '../harness/pipeline.js';
import { logTail, mysqlConnection, mysqlUrl, randomSuffix, startMy2pg, testSource, type My2pgProcess } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

/** What the test source offers: TLS (and its CA and RSA key files), caching_sha2_password. */
async function probeSource(): Promise<{ tls: boolean; sha2: boolean; ca: string | null; rsaKey: string | null }> {
  const conn = await mysqlConnection();
  try {
    const [[v]] = (await conn.query('SELECT @@datadir AS datadir')) as unknown as [[{ datadir: string }]];
    const variable = async (name: string): Promise<string | null> => {
      const [rows] = (await conn.query('SHOW GLOBAL VARIABLES LIKE ?', [name])) as unknown as [Array<{ Value: string }>];
      const value = rows[0]?.Value;
      return value ? (isAbsolute(value) ? value : join(v.datadir, value)) : null;
    };
    const [plugins] = (await conn.query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'caching_sha2_password' AND PLUGIN_STATUS = 'ACTIVE'")) as unknown as [unknown[]];
    const u = new URL(mysqlUrl());
    const tls = await mysql
      .createConnection({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), ssl: { rejectUnauthorized: false } })
      .then((c) => c.end().then(() => true))
      .catch(() => false);
    return { tls, sha2: plugins.length > 0, ca: await variable('ssl_ca'), rsaKey: await variable('caching_sha2_password_public_key_path') };
  } finally {
    await conn.end();
  }
}

const server = await probeSource();
const NO_SHA2 = server.sha2 ? false : `the ${testSource()} source has no caching_sha2_password`;
const NO_TLS = server.tls ? false : `the ${testSource()} source offers no TLS`;
const needs = (...reasons: Array<string | false>): { skip: string | false } => ({ skip: reasons.find((r) => r !== false) ?? false });

const users: string[] = [];
let admin: mysql.Connection;
before(async () => {
  admin = await mysqlConnection();
});
after(async () => {
  for (const u of users) await admin.query(`DROP USER IF EXISTS '${u}'@'%'`).catch(() => undefined);
  await admin.end();
});

/**
 * A source user with my2pg's grants (docs/OPERATIONS.md): under caching_sha2_password when
 * `sha2`, else the server's default plugin; `requireSsl`: created REQUIRE SSL. Returns its URL.
 */
async function sourceUser(opts: { sha2?: boolean; requireSsl?: boolean } = {}): Promise<string> {
  const name = `my2pg_auth_${randomSuffix()}`;
  const password = `pw${randomSuffix()}`;
  users.push(name);
  const plugin = opts.sha2 ? 'WITH caching_sha2_password ' : '';
  await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED ${plugin}BY '${password}'${opts.requireSsl ? ' REQUIRE SSL' : ''}`);
  await admin.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '${name}'@'%'`);
  const u = new URL(mysqlUrl());
  u.username = name;
  u.password = password;
  return u.toString().replace(/\/$/, '');
}

/**
 * `my2pg run` as the user of `sourceUrl` (given in MY2PG_SOURCE, so the harness's waits use the
 * root URL): 300 rows there before the start reach the replica by the first-start bootstrap (in
 * chunks of 100, on chunk threads), and the changes after it through capture.
 */
async function assertRunReplicates(sourceUrl: string, args: string[], before?: () => Promise<void>): Promise<void> {
  const f = await pipelineFixture();
  let proc: My2pgProcess | null = null;
  try {
    await f.conn.query(`CREATE TABLE \`${f.db}\`.t (id INT PRIMARY KEY, v VARCHAR(40))`);
    const rows = Array.from({ length: 300 }, (_, i) => [i + 1, `row ${i + 1}`]);
    await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES ?`, [rows]);
    await before?.();
    proc = startMy2pg(['run', '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--bootstrap-chunk-rows', '100', '--bootstrap-concurrency', '2', ...args], {
      MY2PG_SOURCE: sourceUrl,
    });
    await waitForRunStreaming(proc, 120_000);
    await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES (301, 'streamed'), (302, 'streamed')`);
    await f.conn.query(`UPDATE \`${f.db}\`.t SET v = 'changed' WHERE id = 7`);
    await f.conn.query(`DELETE FROM \`${f.db}\`.t WHERE id = 8`);
    await assertReplicaConverges(f, ['t']);
    assert.equal(proc.child.exitCode, null, `run died:\n${proc.log()}`);
  } finally {
    await proc?.kill();
    await f.cleanup();
  }
}

/** `my2pg run` as `sourceUrl` with `args`: exits with `code`, its message matching each of `messages`. */
async function assertRunFails(sourceUrl: string, args: string[], code: number, messages: RegExp[]): Promise<void> {
  const f = await pipelineFixture();
  try {
    const proc = startMy2pg(['run', '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--retry-max-ms', '5000', ...args], { MY2PG_SOURCE: sourceUrl });
    const exit = await proc.exited;
    // The message on stderr: written last, from its "my2pg: " line on.
    const log = proc.log();
    const stderr = log.slice(Math.max(log.lastIndexOf('\nmy2pg: ') + 1, 0));
    assert.equal(exit, code, `exit code ${exit}, expected ${code}; log:\n${logTail(proc, 40)}`);
    for (const m of messages) assert.match(stderr, m, `the message:\n${stderr}`);
  } finally {
    await f.cleanup();
  }
}

test('caching_sha2_password user REQUIRE SSL, source_ssl_mode VERIFY_CA with the server\'s CA: run bootstraps and streams over TLS', { timeout: 240_000, ...needs(NO_SHA2, NO_TLS) }, async () => {
  assert.ok(server.ca, 'the server names its CA (ssl_ca)');
  // The account is refused on any plain connection: every connection of the run is TLS.
  const url = await sourceUser({ sha2: true, requireSsl: true });
  await assertRunReplicates(url, ['--source-ssl-mode', 'VERIFY_CA', '--source-ssl-ca', server.ca!]);
});

test('caching_sha2_password user over plain TCP (source_ssl_mode DISABLED), full authentication with the server\'s RSA key', { timeout: 240_000, ...needs(NO_SHA2) }, async () => {
  const url = await sourceUser({ sha2: true });
  // An empty authentication cache: the first connection authenticates in full, over RSA.
  await assertRunReplicates(url, ['--source-ssl-mode', 'DISABLED'], async () => void (await admin.query('FLUSH PRIVILEGES')));
});

test('caching_sha2_password over plain TCP with source_rsa_public_key (the key is not asked of the server)', { timeout: 240_000, ...needs(NO_SHA2) }, async () => {
  assert.ok(server.rsaKey, 'the server names its RSA public key (caching_sha2_password_public_key_path)');
  const url = await sourceUser({ sha2: true });
  await assertRunReplicates(url, ['--source-ssl-mode', 'DISABLED', '--source-rsa-public-key', server.rsaKey!], async () => void (await admin.query('FLUSH PRIVILEGES')));
});

test('a password user under the default source_ssl_mode PREFERRED: TLS where the server offers it, plain TCP where not', { timeout: 240_000 }, async () => {
  const url = await sourceUser({ sha2: server.sha2 });
  await assertRunReplicates(url, []);
});

test('a REQUIRE SSL user with source_ssl_mode DISABLED: exit 2, saying the account needs TLS and what to set', { timeout: 120_000, ...needs(NO_TLS) }, async () => {
  const url = await sourceUser({ sha2: server.sha2, requireSsl: true });
  await assertRunFails(url, ['--source-ssl-mode', 'DISABLED'], 2, [/over TLS only/, /source_ssl_mode is DISABLED/, /set source_ssl_mode to PREFERRED, REQUIRED/]);
});

test('VERIFY_CA with a CA that did not sign the server\'s certificate: exit 2, naming the CA file', { timeout: 120_000, ...needs(NO_TLS) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-ca-'));
  const ca = join(dir, 'other-ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'other-ca-key.pem'), '-out', ca, '-days', '1', '-subj', '/CN=not the server CA'], { stdio: 'ignore' });
  const url = await sourceUser({ sha2: server.sha2 });
  await assertRunFails(url, ['--source-ssl-mode', 'VERIFY_CA', '--source-ssl-ca', ca], 2, [
    new RegExp(`not verified by the CA of source_ssl_ca ${ca.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  ]);
});

test('source_ssl_mode REQUIRED on a server without TLS: exit 2, saying so', { timeout: 120_000, skip: server.tls ? `the ${testSource()} source offers TLS` : false }, async () => {
  const url = await sourceUser();
  await assertRunFails(url, ['--source-ssl-mode', 'REQUIRED'], 2, [/does not support TLS, and source_ssl_mode is REQUIRED/]);
});

test('TLS configuration errors stop the start with exit 2: a CA file that cannot be read, VERIFY_CA without a CA, an unknown mode', { timeout: 120_000 }, async () => {
  const missing = join(tmpdir(), `my2pg-no-such-ca-${randomSuffix()}.pem`);
  await assertRunFails(mysqlUrl(), ['--source-ssl-mode', 'VERIFY_CA', '--source-ssl-ca', missing], 2, [new RegExp(`source_ssl_ca: cannot read ${missing}`)]);
  await assertRunFails(mysqlUrl(), ['--source-ssl-mode', 'VERIFY_CA'], 2, [/source_ssl_mode VERIFY_CA needs source_ssl_ca/]);
  await assertRunFails(mysqlUrl(), ['--source-ssl-mode', 'SOMETIMES'], 2, [/source_ssl_mode: Invalid enum value/]);
});

test('a wrong password: the run stops (no retry) with the server\'s "Access denied"', { timeout: 120_000 }, async () => {
  const url = new URL(await sourceUser({ sha2: server.sha2 }));
  url.password = 'not-the-password';
  await assertRunFails(url.toString(), [], 3, [/cannot connect to the source mysql:\/\/my2pg_auth_\w+:\*\*\*@/, /Access denied for user/]);
});

// Connections to the MySQL/MariaDB source: the one place their options are built (TLS, the
// caching_sha2_password key exchange; docs/OPERATIONS.md "Connecting to the source"), the query
// connections (schemas, server checks, positions, bootstrap reads), URLs with their password
// hidden for messages, and what a lost connection looks like (the binlog reader's too).

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import mysql from 'mysql2/promise';
import { authPlugins } from 'mysql2';
import type { Config } from '../config/schema.js';
import { isTransient, My2pgError } from '../core/errors.js';

/** The modes of `source_ssl_mode`, as the configuration lists them. */
export type SslMode = Config['source_ssl_mode'];

/**
 * How to secure source connections: plain data (it crosses to worker threads), files already
 * read. The file names are kept for messages.
 */
export interface SourceTls {
  mode: SslMode;
  ca?: { file: string; pem: string };
  cert?: { file: string; pem: string };
  key?: { file: string; pem: string };
  /** The server's RSA public key for caching_sha2_password over plain TCP; unset: asked of the server. */
  rsaPublicKey?: { file: string; pem: string };
}

/** The mysql client's default: TLS when the server offers it. */
export const DEFAULT_SOURCE_TLS: SourceTls = { mode: 'PREFERRED' };

/** The source's TLS settings from the configuration, its files read (a missing one is a CONFIG error). */
export function sourceTlsFromConfig(c: Pick<Config, 'source_ssl_mode' | 'source_ssl_ca' | 'source_ssl_cert' | 'source_ssl_key' | 'source_rsa_public_key'>): SourceTls {
  const read = (option: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return { file, pem: readFileSync(file, 'utf8') };
    } catch (err) {
      throw new My2pgError('CONFIG', `${option}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const tls: SourceTls = { mode: c.source_ssl_mode };
  const ca = read('source_ssl_ca', c.source_ssl_ca);
  const cert = read('source_ssl_cert', c.source_ssl_cert);
  const key = read('source_ssl_key', c.source_ssl_key);
  const rsaPublicKey = read('source_rsa_public_key', c.source_rsa_public_key);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (rsaPublicKey) tls.rsaPublicKey = rsaPublicKey;
  return tls;
}

/**
 * What PREFERRED found per server (host:port) in this process or thread: whether it offers TLS.
 * Asked once; a server that offers none is then connected to in plain TCP at once.
 */
const offersTls = new Map<string, boolean>();

function serverOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 3306}`;
}

/** Whether connections to `url` under `tls` are to use TLS (PREFERRED: unless the server was found to offer none). */
function usesTls(url: string, tls: SourceTls): boolean {
  if (tls.mode === 'DISABLED') return false;
  if (tls.mode === 'PREFERRED') return offersTls.get(serverOf(url)) !== false;
  return true;
}

/**
 * The mysql2 options of every source connection (queries, and the binlog connections through
 * zongji): the URL's server and credentials, TLS as `tls` asks, and for caching_sha2_password
 * over plain TCP the RSA key exchange (the server's key as configured, else asked of the server).
 * `forceTls` overrides the mode's choice (the probe that tells a TLS-only user apart).
 */
export function sourceConnectionOptions(url: string, tls: SourceTls = DEFAULT_SOURCE_TLS, forceTls?: boolean): mysql.ConnectionOptions {
  const u = new URL(url);
  const options: mysql.ConnectionOptions = {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) options.database = database;
  if (forceTls ?? usesTls(url, tls)) {
    const verify = tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY';
    options.ssl = {
      rejectUnauthorized: verify,
      verifyIdentity: tls.mode === 'VERIFY_IDENTITY',
      ...(tls.ca ? { ca: tls.ca.pem } : {}),
      ...(tls.cert ? { cert: tls.cert.pem } : {}),
      ...(tls.key ? { key: tls.key.pem } : {}),
    };
  } else if (tls.rsaPublicKey) {
    options.authPlugins = { caching_sha2_password: authPlugins.caching_sha2_password({ serverPublicKey: tls.rsaPublicKey.pem }) };
  }
  return options;
}

/**
 * Before a connection made elsewhere (zongji's): under PREFERRED, finds out once whether the
 * server offers TLS, so that sourceConnectionOptions answers right.
 */
export async function settleSourceTls(url: string, tls: SourceTls = DEFAULT_SOURCE_TLS): Promise<void> {
  if (tls.mode !== 'PREFERRED' || offersTls.has(serverOf(url))) return;
  const conn = await connectSource(url, tls);
  await conn.end().catch(() => undefined);
}

export async function connectSource(url: string, tls: SourceTls = DEFAULT_SOURCE_TLS, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  const open = () => mysql.createConnection({ ...sourceConnectionOptions(url, tls), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, ...extra });
  try {
    try {
      const conn = await open();
      if (tls.mode === 'PREFERRED') offersTls.set(serverOf(url), usesTls(url, tls));
      return conn;
    } catch (err) {
      if (tls.mode !== 'PREFERRED' || codeOf(err) !== 'HANDSHAKE_NO_SSL_SUPPORT') throw err;
      offersTls.set(serverOf(url), false);
      return await open();
    }
  } catch (err) {
    throw await sourceConnectError(url, tls, err);
  }
}

const codeOf = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
const errnoOf = (err: unknown): number => (err as { errno?: number } | null)?.errno ?? 0;

/**
 * How Node words a certificate chain that the CA does not verify (mysql2 replaces the TLS
 * error's code with HANDSHAKE_SSL_ERROR, so the message is what is left of it).
 */
const CERT_UNTRUSTED = /self[- ]signed certificate|unable to (verify|get) .*certificate|certificate (signature failure|is not trusted|has expired|is not yet valid)/i;
const CERT_WRONG_HOST = /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/i;

/** The server refuses plain connections (MySQL's require_secure_transport, MariaDB's too). */
function insecureTransportRefused(err: unknown): boolean {
  return errnoOf(err) === 3159 || /insecure transport|secure transport/i.test((err as Error)?.message ?? '');
}

/**
 * A failed source connection as the user should read it: TLS problems and refused credentials
 * are configuration errors (no retry helps); anything else an outage, retried.
 */
export async function sourceConnectError(url: string, tls: SourceTls, err: unknown): Promise<My2pgError> {
  if (err instanceof My2pgError) return err;
  const where = `the source ${redact(url)}`;
  const message = (err as Error)?.message ?? String(err);
  const fail = (text: string) => new My2pgError('CONFIG', text, { cause: err });
  const code = codeOf(err);
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return fail(`${where} does not support TLS, and source_ssl_mode is ${tls.mode}: enable TLS on the server, or set source_ssl_mode to PREFERRED or DISABLED`);
  }
  if (code === 'HANDSHAKE_SSL_ERROR' && CERT_UNTRUSTED.test(message)) {
    const ca = tls.ca ? `the CA of source_ssl_ca ${tls.ca.file}` : 'a known CA (no source_ssl_ca is set)';
    return fail(
      `${where}: its TLS certificate is not verified by ${ca}: ${message}. Set source_ssl_ca to the CA that signed the server's certificate ` +
        `(MySQL's own is ca.pem in its data directory), or source_ssl_mode to REQUIRED to encrypt without verifying the server`,
    );
  }
  if (code === 'HANDSHAKE_SSL_ERROR' && CERT_WRONG_HOST.test(message)) {
    const host = new URL(url).hostname;
    const ip = isIP(host.replace(/^\[|\]$/g, '')) !== 0;
    return fail(
      `${where}: its TLS certificate does not name the host ${ip ? `(the URL gives the address ${host}, and an address is checked as "localhost")` : host}: ${message}. ` +
        `source_ssl_mode VERIFY_IDENTITY needs a certificate issued for the host name in the source URL; VERIFY_CA verifies the CA only`,
    );
  }
  if (code === 'HANDSHAKE_SSL_ERROR') {
    return fail(`${where}: the TLS handshake failed under source_ssl_mode ${tls.mode}: ${message}`);
  }
  if (insecureTransportRefused(err)) {
    return fail(`${where} accepts TLS connections only (require_secure_transport), and source_ssl_mode is DISABLED: set source_ssl_mode to PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY`);
  }
  const refused = [1044, 1045, 1698].includes(errnoOf(err));
  // A configured RSA key that is not the server's gets a refusal like a wrong password: try once
  // with the key the server sends.
  if (errnoOf(err) === 1045 && tls.rsaPublicKey && !usesTls(url, tls) && (await accepted(sourceConnectionOptions(url, { ...tls, rsaPublicKey: undefined })))) {
    return fail(`${where}: source_rsa_public_key ${tls.rsaPublicKey.file} is not the server's public key (caching_sha2_password refused the password encrypted with it, and accepted it with the key the server sends): set it to the server's key (caching_sha2_password_public_key_path, public_key.pem in MySQL's data directory) or leave it unset`);
  }
  // A user created REQUIRE SSL (or X509…) is refused on a plain connection as if its password
  // were wrong: tell the two apart by trying TLS once.
  if (errnoOf(err) === 1045 && !usesTls(url, tls) && (await accepted(sourceConnectionOptions(url, { ...tls, mode: 'REQUIRED' }, true)))) {
    return fail(
      `${where} accepts user ${decodeURIComponent(new URL(url).username)} over TLS only (the account requires SSL), and ` +
        (tls.mode === 'DISABLED' ? 'source_ssl_mode is DISABLED' : 'the server offered no TLS to this connection') +
        ': set source_ssl_mode to PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY',
    );
  }
  // Refused credentials are not an outage: retrying cannot fix them.
  return new My2pgError('UNREACHABLE', `cannot connect to ${where}: ${message}`, { retriable: !refused, cause: err });
}

/** Whether a connection with these options is accepted (closed at once). */
async function accepted(options: mysql.ConnectionOptions): Promise<boolean> {
  try {
    const conn = await mysql.createConnection(options);
    await conn.end().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Server errors of a server going away: shutting down, connection killed, gone away, lost. */
const CONNECTION_ERRNOS = new Set([1053, 1927, 2006, 2013]);

/**
 * A MySQL connection (binlog or query) lost or refused, not refused by the server for a reason a
 * retry cannot fix: the drivers mark connection-level errors `fatal`, and zongji halts when its
 * control connection is gone.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; fatal?: boolean; message?: string } | null;
  if (!e) return false;
  if (isTransient(e) || CONNECTION_ERRNOS.has(e.errno ?? 0)) return true;
  if (/^Control connection unavailable/.test(e.message ?? '')) return true;
  return e.fatal === true && e.errno === undefined;
}

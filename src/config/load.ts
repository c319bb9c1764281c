// Builds the configuration: defaults < YAML file < MY2PG_* environment < command-line flags.
// Any invalid value stops the start with its key and the reason.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { My2pgError } from '../core/errors.js';
import { CONFIG_KEYS, configSchema, type Config } from './schema.js';

export interface ConfigSources {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  file?: string;
}

export function loadConfig({ flags, env, file }: ConfigSources): Config {
  const merged: Record<string, unknown> = {};
  if (file) Object.assign(merged, readConfigFile(file));
  for (const key of CONFIG_KEYS) {
    const v = env[`MY2PG_${key.toUpperCase()}`];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  for (const [flag, v] of Object.entries(flags)) {
    if (v !== undefined) merged[flag.replace(/-/g, '_')] = v;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${describeIssue(i)}`);
    throw new My2pgError('CONFIG', `invalid configuration\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

function describeIssue(i: { code: string; message: string; keys?: string[] }): string {
  if (i.code === 'unrecognized_keys' && i.keys) return `unknown option(s) ${i.keys.join(', ')}`;
  return i.message;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new My2pgError('CONFIG', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new My2pgError('CONFIG', `config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new My2pgError('CONFIG', `config file ${file} must be a mapping of options`);
  return doc as Record<string, unknown>;
}

// Validates data against the registry's JSON schemas and turns ajv's errors into one readable
// message: the file, the JSON path (as a JSON pointer) and what was expected.
import type { ErrorObject } from 'ajv';
import { loadValidators, prevalidatedResult, type SchemaName } from '@qemount/registry';
import { QemountError } from '../QemountError.js';

/** One line per problem: `/guest/filesystems/ext4/access: must be one of "rw", "ro" (got "yes")`. */
export function describeSchemaErrors(errors: ErrorObject[], data: unknown): string[] {
  // "if/then" and "propertyNames" wrappers only repeat what their inner errors say.
  const useful = errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames');
  const lines = useful.map((e) => {
    let path = e.instancePath || '/';
    let expected: string;
    // An error about a map key (propertyNames): the key is what is wrong, not the whole map.
    if (e.propertyName !== undefined) {
      return `${e.instancePath}/${e.propertyName}: the key ${e.message ?? 'is invalid'} (got ${JSON.stringify(e.propertyName)})`;
    }
    switch (e.keyword) {
      case 'enum':
        expected = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        path = `${e.instancePath}/${extra}`;
        expected = 'is not allowed here (unknown property)';
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        path = `${e.instancePath}/${missing}`;
        expected = 'is required';
        break;
      }
      default:
        expected = e.message ?? e.keyword;
    }
    const actual = e.keyword === 'required' || e.keyword === 'additionalProperties' ? undefined : valueAt(data, e.instancePath);
    return actual === undefined ? `${path}: ${expected}` : `${path}: ${expected} (got ${JSON.stringify(actual)})`;
  });
  return [...new Set(lines)];
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Validates `data` (read from `file`) against a schema and returns it with the schema's defaults
 * filled in, or throws. Input the build already validated (the repo's own data) is not validated again.
 */
export async function validateAgainstSchema<T>(name: SchemaName, data: unknown, file: string, code: string, hint?: string): Promise<T> {
  const known = prevalidatedResult(name, data);
  if (known !== undefined) return known as T;
  const validate = (await loadValidators())[name];
  if (!validate(data)) {
    const problems = describeSchemaErrors((validate.errors ?? []) as ErrorObject[], data);
    throw new QemountError(code, `${file} is not a valid ${name.replace('-', ' ')}:\n  ${problems.join('\n  ')}`, { hint });
  }
  return data as T;
}

/**
 * Fails when an operation of the API has no method in one of the SDKs: reads the operations from the
 * OpenAPI document (the one given, else sdk/openapi.json) as sdk/codegen/operations.mjs names them, then
 * asks each SDK what it has: the TypeScript client's properties and methods, the Python and Ruby clients'
 * attributes (each language's own interpreter loads the SDK), the Go services' methods (read from the
 * source). Also fails on a name in OPERATION_NAMES whose route is gone. Part of `npm run sdk:check`.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { camel, extractOperations, OPERATION_NAMES, pascal } from '../sdk/codegen/operations.mjs';
import { Wisp } from '../sdk/typescript/src/index.js';

interface Operation {
  resource: string;
  name: string;
  method: string;
  path: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SDK = path.join(ROOT, 'sdk');

/** The operations of `document` missing from each SDK, by SDK. */
export function missingMethods(operations: Operation[]): Record<string, string[]> {
  const label = (op: Operation, name: string) => `${name} (${op.method} ${op.path})`;
  const pairs = operations.map((op) => [op.resource, op.name]);

  const client = new Wisp({ apiKey: 'coverage-check', baseUrl: 'http://127.0.0.1:9' }) as unknown as Record<
    string,
    Record<string, unknown> | undefined
  >;
  const typescript = operations
    .filter((op) => typeof client[camel(op.resource)]?.[camel(op.name)] !== 'function')
    .map((op) => label(op, `${camel(op.resource)}.${camel(op.name)}`));

  const python = JSON.parse(
    execFileSync(
      path.join(SDK, 'python/.venv/bin/python'),
      [
        '-c',
        [
          'import json, sys',
          'from wisp import Wisp',
          'client = Wisp("coverage-check", base_url="http://127.0.0.1:9")',
          'pairs = json.load(sys.stdin)',
          'print(json.dumps([i for i, (r, m) in enumerate(pairs) if not callable(getattr(getattr(client, r, None), m, None))]))',
        ].join('\n'),
      ],
      { cwd: path.join(SDK, 'python/src'), input: JSON.stringify(pairs), encoding: 'utf8' },
    ),
  ) as number[];

  const ruby = JSON.parse(
    execFileSync(
      'ruby',
      [
        '-Ilib',
        '-rjson',
        '-rwisp',
        '-e',
        [
          'client = Wisp::Client.new(api_key: "coverage-check", base_url: "http://127.0.0.1:9")',
          'pairs = JSON.parse($stdin.read)',
          'puts JSON.generate(pairs.each_index.reject { |i| r, m = pairs[i]; client.respond_to?(r) && client.public_send(r).respond_to?(m) })',
        ].join('\n'),
      ],
      { cwd: path.join(SDK, 'ruby'), input: JSON.stringify(pairs), encoding: 'utf8' },
    ),
  ) as number[];

  const goSource = readdirSync(path.join(SDK, 'go'))
    .filter((file) => file.endsWith('.go') && !file.endsWith('_test.go'))
    .map((file) => readFileSync(path.join(SDK, 'go', file), 'utf8'))
    .join('\n');
  const goMethods = new Set([...goSource.matchAll(/^func \(\w+ \*(\w+)\) (\w+)\(/gm)].map((m) => `${m[1]}.${m[2]}`));
  const goServices = new Set([...goSource.matchAll(/^\t(\w+) +\*(\w+)Service$/gm)].map((m) => m[1]));
  const go = operations
    .filter((op) => {
      const service = pascal(op.resource);
      return !goServices.has(service) || !goMethods.has(`${service}Service.${pascal(op.name)}`);
    })
    .map((op) => label(op, `${pascal(op.resource)}.${pascal(op.name)}`));

  return {
    typescript,
    python: python.map((i) => label(operations[i]!, `${operations[i]!.resource}.${operations[i]!.name}`)),
    go,
    ruby: ruby.map((i) => label(operations[i]!, `${operations[i]!.resource}.${operations[i]!.name}`)),
  };
}

/** Names in OPERATION_NAMES whose route the document no longer has. */
export function staleNames(operations: Operation[]): string[] {
  const routes = new Set(operations.map((op) => `${op.method} ${op.path}`));
  return Object.keys(OPERATION_NAMES).filter((route) => !routes.has(route));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const documentPath = process.argv[2] ?? path.join(SDK, 'openapi.json');
  const { operations } = extractOperations(JSON.parse(readFileSync(documentPath, 'utf8')));
  const problems: string[] = [];
  for (const [sdk, missing] of Object.entries(missingMethods(operations))) {
    if (missing.length) problems.push(`the ${sdk} SDK has no method for: ${missing.join(', ')}`);
  }
  const stale = staleNames(operations);
  if (stale.length) problems.push(`OPERATION_NAMES names routes the API no longer has: ${stale.join(', ')}`);
  if (problems.length) {
    for (const problem of problems) console.error(`check-sdk-coverage: ${problem}`);
    process.exit(1);
  }
  console.log(`check-sdk-coverage: every SDK has a method for each of the ${operations.length} operations`);
}

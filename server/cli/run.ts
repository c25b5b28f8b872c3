import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, readEnvironment } from '../config.js';
import { DatabaseUnreachableError } from '../db/mongo.js';
import { planDefaults } from '../organizations/plans.js';
import { CliError } from './cli-error.js';
import { CliCommands } from './commands.js';
import { openCliDatabase } from './database.js';

export interface ParsedCommand {
  command: string | undefined;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** Parses `argv`; unknown options become a {@link CliError}. */
export function parseCommand(argv: string[], options: ParseArgsConfig['options']): ParsedCommand {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return {
      command: positionals[0],
      positionals: positionals.slice(1),
      values: values as Record<string, string | boolean | undefined>,
    };
  } catch (error) {
    throw new CliError(error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error));
  }
}

/**
 * Runs one CLI invocation: config, database, the command, output; every failure is
 * one line on stderr and exit code 1.
 */
export async function runCli(
  tool: string,
  usage: string,
  run: (commands: CliCommands, parsed: ParsedCommand, publicUrl: string) => Promise<string[]>,
  parse: () => ParsedCommand,
): Promise<void> {
  let close: (() => Promise<void>) | null = null;
  try {
    const parsed = parse();
    if (!parsed.command || parsed.values.help) {
      process.stdout.write(`${usage}\n`);
      process.exitCode = parsed.values.help ? 0 : 1;
      return;
    }
    const config = loadConfig(readEnvironment());
    const db = await openCliDatabase(config, { createDatabase: parsed.values['create-database'] === true });
    close = db.close;
    const publicUrl =
      config.PUBLIC_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`;
    const lines = await run(new CliCommands(db.models, planDefaults(config)), parsed, publicUrl);
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    const known =
      error instanceof CliError || error instanceof ConfigError || error instanceof DatabaseUnreachableError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${tool}: ${known ? message : `unexpected error: ${message}`}\n`);
    process.exitCode = 1;
  } finally {
    await close?.().catch(() => undefined);
  }
}

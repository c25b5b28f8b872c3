/** `npm run keys -- create|list|revoke ...`: API keys from the command line. */
import { CliError } from '../server/cli/cli-error.js';
import { parseCommand, runCli } from '../server/cli/run.js';

const USAGE = `Usage:
  npm run keys -- create --scopes chat,knowledge:read [--org <orgId>] [--name "..."]
  npm run keys -- list [--org <orgId>]
  npm run keys -- revoke <keyId>
--org may be left out when there is exactly one organization.
The database is the server's (its DATA_DIR or MONGODB_URI); --create-database allows a new, empty one.`;

await runCli(
  'keys',
  USAGE,
  async (commands, { command, positionals, values }) => {
    const org = values.org as string | undefined;
    if (command === 'create') {
      return commands.createKey({
        org,
        scopes: values.scopes as string | undefined,
        name: values.name as string | undefined,
      });
    }
    if (command === 'list') return commands.listKeys(org);
    if (command === 'revoke') return commands.revokeKey(positionals[0]);
    throw new CliError(`Unknown command "${command}": use create, list or revoke`);
  },
  () =>
    parseCommand(process.argv.slice(2), {
      org: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      'create-database': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }),
);

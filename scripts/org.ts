/** `npm run org -- create "Acme" [--plan pro]` and `npm run org -- list`. */
import { CliError } from '../server/cli/cli-error.js';
import { parseCommand, runCli } from '../server/cli/run.js';

const USAGE = `Usage:
  npm run org -- create "Acme" [--plan free|pro]   create an organization and print its first admin key once
  npm run org -- list                              list organizations
The database is the server's (its DATA_DIR or MONGODB_URI); --create-database allows a new, empty one.`;

await runCli(
  'org',
  USAGE,
  async (commands, { command, positionals, values }) => {
    if (command === 'create') {
      if (positionals.length > 1) throw new CliError('Quote a name with spaces: npm run org -- create "Acme Inc"');
      return commands.createOrganization(positionals[0], values.plan as string | undefined);
    }
    if (command === 'list') return commands.listOrganizations();
    throw new CliError(`Unknown command "${command}": use create or list`);
  },
  () =>
    parseCommand(process.argv.slice(2), {
      plan: { type: 'string' },
      'create-database': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }),
);

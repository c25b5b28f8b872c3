/** `npm run org -- create "Acme" [--plan pro]`, `npm run org -- console-link ORG_ID`, `npm run org -- set-plan ORG_ID enterprise [--per-minute N …]` and `npm run org -- list`. */
import { CliError } from '../server/cli/cli-error.js';
import { parseCommand, runCli } from '../server/cli/run.js';

const USAGE = `Usage:
  npm run org -- create "Acme" [--plan free|pro|enterprise]   create an organization and print its first admin key once
  npm run org -- set-plan ORG_ID PLAN [--per-minute N] [--burst N] [--monthly-messages N]
                                   put an organization on a plan, with its own limits (0 = unlimited, "default" = the plan's)
  npm run org -- console-link ORG_ID   print a one-time link that signs in to the owner console (15 minutes)
  npm run org -- list              list organizations with their effective limits (* = the organization's own)
The database is the server's (its DATA_DIR or MONGODB_URI); --create-database allows a new, empty one.`;

await runCli(
  'org',
  USAGE,
  async (commands, { command, positionals, values }, publicUrl) => {
    if (command === 'create') {
      if (positionals.length > 1) throw new CliError('Quote a name with spaces: npm run org -- create "Acme Inc"');
      return commands.createOrganization(positionals[0], values.plan as string | undefined);
    }
    if (command === 'set-plan') {
      if (positionals.length !== 2) throw new CliError('Usage: npm run org -- set-plan ORG_ID PLAN [--per-minute N] …');
      return commands.setPlan(positionals[0], positionals[1], {
        perMinute: values['per-minute'] as string | undefined,
        burst: values.burst as string | undefined,
        monthlyMessages: values['monthly-messages'] as string | undefined,
      });
    }
    if (command === 'list') return commands.listOrganizations();
    if (command === 'console-link') return commands.consoleLink(positionals[0], publicUrl);
    throw new CliError(`Unknown command "${command}": use create, set-plan, console-link or list`);
  },
  () =>
    parseCommand(process.argv.slice(2), {
      plan: { type: 'string' },
      'create-database': { type: 'boolean' },
      'per-minute': { type: 'string' },
      burst: { type: 'string' },
      'monthly-messages': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }),
);

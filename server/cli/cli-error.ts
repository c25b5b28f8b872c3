/** A problem with the operator's input or setup; the CLI prints its message as one line. */
export class CliError extends Error {
  override name = 'CliError';
}

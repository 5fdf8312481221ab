/**
 * The error for a mistake on a command line, shared by the server's flags
 * and the client's: its message is worth one line, and it ends the program
 * with exit code 2.
 *
 * @module
 */

/** A mistake in the flags, arguments or variables, worth one line and exit code 2. */
export class UsageError extends Error {
  /** Creates the error with a message saying what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

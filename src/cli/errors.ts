/**
 * The CLI's own failures. Each maps to an exit code in `main.ts`: a `UsageError` to 2 (the command
 * line is wrong and nothing was sent), the others to 1, as do the client's `ApiError` (the API
 * answered with an error) and `NetworkError` (it could not be reached), which the CLI reports as
 * the client throws them.
 */

export class CliError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The command line cannot be understood; nothing was sent. */
export class UsageError extends CliError {
  public constructor(
    message: string,
    /** The command whose usage applies, or undefined for the tool itself. */
    public readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * A request to a deployed API could not be signed (no credentials, no region); `profile` is the
 * AWS profile the credentials were looked for in, undefined for the default credential chain.
 */
export class SigningError extends CliError {
  public constructor(
    public readonly profile: string | undefined,
    options: { cause: Error },
  ) {
    super(options.cause.message, options);
    this.name = 'SigningError';
  }
}

/** The settings file (`vesta config`) cannot be read or written. */
export class ConfigError extends CliError {
  public constructor(
    public readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the settings file ${path} cannot be used: ${reason}`, options);
    this.name = 'ConfigError';
  }
}

/**
 * A lease being kept alive is gone: a keepalive answered 404, or the service could not be
 * reached for longer than the lease had left. Whatever the lease protected may be gone too.
 */
export class LeaseLostError extends CliError {
  public constructor(
    public readonly leaseId: string,
    /** When the loss was noticed, as an ISO 8601 time. */
    public readonly at: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`LOST lease ${leaseId} at ${at}: ${reason}`, options);
    this.name = 'LeaseLostError';
  }
}

/**
 * The errors metrics-flow-check raises on purpose. Their messages are meant for the user as they
 * are: the action and the CLI print them without a stack trace.
 */

/** A failure the user can act on; `hint` says how, when the message alone does not. */
export class MfcError extends Error {
  override name = 'MfcError';
  readonly hint?: string;

  constructor(message: string, hint?: string) {
    super(message);
    if (hint !== undefined) this.hint = hint;
  }
}

/**
 * A bad input value. `input` is the input's contract name (`request-timeout`), which is also the
 * CLI flag's name, so the message points at what to change in either place.
 */
export class SettingsError extends MfcError {
  override name = 'SettingsError';
  readonly input: string;

  /** `problem` says what is wrong and what is expected: `"10x" is not a duration; expected e.g. …`. */
  constructor(input: string, problem: string, hint?: string) {
    super(`Input '${input}' is invalid: ${problem}${/[.!?]$/.test(problem) ? '' : '.'}`, hint);
    this.input = input;
  }
}

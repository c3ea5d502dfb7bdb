// Configuration errors: one line each, naming where the bad value came from and what to do about it.

/** A configuration problem; the message is one line, starting with `config error: `. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(detail: string) {
    super(`config error: ${detail}`);
  }
}

/** A problem inside a value, `at` a sub-path of the key (`[2]`, `.team`) or at the value itself (''). */
export class FieldError extends Error {
  override name = 'FieldError';
  readonly at: string;
  constructor(at: string, message: string) {
    super(message);
    this.at = at;
  }
}

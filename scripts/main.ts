// The entry point of a script run as `node scripts/X.ts`: its exit code, or 2 with one line on stderr.

/** Runs `main` when `file` (the caller's import.meta.filename) is the process' script, not when imported. */
export function runScript(name: string, file: string, main: () => Promise<number>): void {
  if (process.argv[1] !== file) return;
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

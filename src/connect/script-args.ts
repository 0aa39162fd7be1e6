// Whether `kindling run ...` names a Python script: kept apart from run-script.ts so the query run never loads gRPC.

/** True when argv names a Python script (`kindling run lab.py ...`): the run command then runs it instead of a query. */
export function namesPythonScript(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => !a.startsWith('-') && /\.py$/i.test(a));
}

// A vitest reporter that ends the run with every skipped suite and why, so a skipped browser or Kafka suite is not one easy-to-miss line.
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** The reason a skipped test gives: its `ctx.skip(note)`, else a `[skipped: ...]` in its own or a parent suite's name. */
function skipReason(test: TestCase): string {
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  for (let s: TestCase['parent'] | TestModule | undefined = test.parent; s && s.type === 'suite'; s = s.parent) {
    const m = /\[skipped: (.*)\]/.exec(s.name);
    if (m) return m[1]!;
  }
  return /\[skipped: (.*)\]/.exec(test.name)?.[1] ?? 'skipped in the test file (skip, skipIf or only)';
}

export default class SkippedSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, Map<string, number>>();
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        const reason = skipReason(test);
        const files = byReason.get(reason) ?? new Map<string, number>();
        files.set(module.relativeModuleId, (files.get(module.relativeModuleId) ?? 0) + 1);
        byReason.set(reason, files);
      }
    }
    if (byReason.size === 0) return;
    const lines = ['', '!!! [kindling] SKIPPED TESTS (they did not run):'];
    for (const [reason, files] of byReason) {
      const count = [...files.values()].reduce((a, b) => a + b, 0);
      lines.push(`  ${count} test(s): ${reason}`, `    in ${[...files].map(([f, n]) => `${f} (${n})`).join(', ')}`);
    }
    process.stdout.write(lines.join('\n') + '\n\n');
  }
}

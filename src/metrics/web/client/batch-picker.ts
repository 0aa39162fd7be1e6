// A batch picker for the tabs that show one batch (Tasks, Plan): "latest with input" by default, or a batch the user chose (browser module).
import type { ProgressRecord } from '../../progress.js';

/** Keeps the user's choice between updates; the options are redrawn unless the select has the focus. */
export class BatchPicker {
  private chosen: number | null = null;

  constructor(
    private readonly select: HTMLSelectElement,
    private readonly describe: (p: ProgressRecord) => string,
    onChange: () => void,
  ) {
    select.addEventListener('change', () => {
      this.chosen = select.value === 'latest' ? null : Number(select.value);
      onChange();
    });
  }

  /** Redraws the options for `records` and returns the chosen batch's record (else the newest with input, else the newest). */
  pick(records: readonly ProgressRecord[]): ProgressRecord | undefined {
    if (document.activeElement !== this.select) {
      const options = [`<option value="latest">latest batch with input</option>`, ...[...records].reverse().map((r) => `<option value="${r.batchId}">${this.describe(r)}</option>`)];
      this.select.innerHTML = options.join('');
      this.select.value = this.chosen === null ? 'latest' : String(this.chosen);
    }
    let p: ProgressRecord | undefined;
    if (this.chosen !== null) p = records.find((r) => r.batchId === this.chosen);
    else for (let i = records.length - 1; i >= 0 && !p; i--) if (!records[i]!.kindling.noDataBatch) p = records[i];
    return p ?? records[records.length - 1];
  }
}

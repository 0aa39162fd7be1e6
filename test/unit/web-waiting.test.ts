// The web page before its first batch: it says it is connecting until the event stream answers, not "no batch yet".
import { describe, expect, it } from 'vitest';
import { renderKpis } from '../../src/metrics/web/client/page-streaming.js';
import type { AppState } from '../../src/metrics/web/client/state.js';

const empty = (link: AppState['link']): AppState => ({ records: [], config: null, results: null, link });

describe('the headline strip before the first batch', () => {
  it('says connecting while the event stream has not answered', () => {
    expect(renderKpis(empty('connecting'))).toContain('connecting to the engine…');
    expect(renderKpis(empty('connecting'))).not.toContain('no batch yet');
  });

  it('says no batch yet once connected, and why nothing came when the run ended or the engine went away', () => {
    expect(renderKpis(empty('live'))).toContain('no batch yet');
    expect(renderKpis(empty('ended'))).toContain('the run finished before its first batch');
    expect(renderKpis(empty('disconnected'))).toContain('the engine is not answering');
  });
});

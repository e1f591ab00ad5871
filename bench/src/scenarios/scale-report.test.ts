import { describe, expect, it } from 'vitest';
import { partialScrape } from './scale-report.js';

const end = { byStatus: [], connectionOpenedWritten: 100, eventJobsWaiting: 0 };

describe('partialScrape', () => {
  it('says how many workers a partial sum of their counters covers', () => {
    expect(partialScrape({ ...end, workers: 3, workersAnswered: 1 })).toBe(
      ' (counted by 1 of 3 workers: the others did not answer their scrape)',
    );
  });

  it('says nothing when every worker answered, or for reports that predate the count', () => {
    expect(partialScrape({ ...end, workers: 3, workersAnswered: 3 })).toBe('');
    expect(partialScrape(end)).toBe('');
  });
});

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  escapeXml,
  HEIGHT,
  latencyChart,
  lineChart,
  niceAxis,
  percentileCurve,
  percentilePosition,
  WIDTH,
} from './svg.js';

interface Node {
  [key: string]: unknown;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  preserveOrder: true,
  trimValues: false,
});

/** Every element of the parsed document as [name, attributes, text content]. */
function elements(svg: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const out: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const walk = (nodes: Node[]): void => {
    for (const node of nodes) {
      const name = Object.keys(node).find((k) => k !== ':@');
      if (name === undefined || name === '#text') continue;
      const children = node[name] as Node[];
      const text = children
        .filter((c) => '#text' in c)
        .map((c) => String(c['#text']))
        .join('');
      out.push({ name, attrs: (node[':@'] ?? {}) as Record<string, string>, text });
      walk(children);
    }
  };
  walk(parser.parse(svg) as Node[]);
  return out;
}

function expectPointsInViewBox(svg: string): number {
  let count = 0;
  for (const e of elements(svg)) {
    const pairs: Array<[number, number]> = [];
    if (e.name === 'polyline') {
      for (const pair of e.attrs['@points']!.split(' ')) {
        const [x, y] = pair.split(',').map(Number);
        pairs.push([x!, y!]);
      }
    }
    if (e.name === 'circle') pairs.push([Number(e.attrs['@cx']), Number(e.attrs['@cy'])]);
    for (const [x, y] of pairs) {
      count++;
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(WIDTH);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(HEIGHT);
    }
  }
  return count;
}

const texts = (svg: string): string[] => elements(svg).map((e) => e.text);

describe('lineChart', () => {
  const svg = lineChart({
    title: 'Connected agents over time',
    xLabel: 'seconds since start',
    yLabel: 'connected agents',
    series: [
      {
        label: 'gateway',
        points: [
          [0, 0],
          [1, 2500],
          [2, 7000],
          [3, 10_000],
        ],
      },
      {
        label: 'raw uWS echo',
        points: [
          [0, 0],
          [1, 4000],
          [2, 10_000],
        ],
      },
    ],
  });

  it('is a well-formed standalone SVG document', () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    const root = elements(svg)[0]!;
    expect(root.name).toBe('svg');
    expect(root.attrs['@xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(root.attrs['@viewBox']).toBe(`0 0 ${WIDTH} ${HEIGHT}`);
  });

  it('has the title, axis labels, tick labels and a legend entry per series', () => {
    const t = texts(svg);
    for (const label of [
      'Connected agents over time',
      'seconds since start',
      'connected agents',
      'gateway',
      'raw uWS echo',
    ]) {
      expect(t).toContain(label);
    }
    expect(t).toContain('10,000');
  });

  it('draws one polyline per series with every point inside the viewBox', () => {
    expect(elements(svg).filter((e) => e.name === 'polyline')).toHaveLength(2);
    expect(expectPointsInViewBox(svg)).toBe(2 * 7);
  });

  it('escapes markup in every text', () => {
    const tricky = lineChart({
      title: '<script>alert("x")</script> & co',
      xLabel: "a'b",
      yLabel: 'y < 1',
      series: [{ label: 'p&q', points: [[0, 1]] }],
    });
    expect(XMLValidator.validate(tricky)).toBe(true);
    expect(tricky).not.toContain('<script>');
    const t = texts(tricky).map((s) =>
      s.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))),
    );
    expect(t).toContain('<script>alert("x")</script> & co');
    expect(t).toContain('p&q');
  });

  it('renders axes and "no data" for empty series, and skips non-finite points', () => {
    const empty = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [] }] });
    expect(XMLValidator.validate(empty)).toBe(true);
    expect(texts(empty)).toContain('no data');
    const gaps = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          label: 's',
          points: [
            [0, 1],
            [1, Number.NaN],
            [2, 3],
          ],
        },
      ],
    });
    expect(expectPointsInViewBox(gaps)).toBe(2 * 2);
  });
});

describe('latencyChart', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => (i + 1) / 10);

  it('draws percentile curves from samples or given percentiles, inside the viewBox', () => {
    const svg = latencyChart({
      title: 'Heartbeat latency',
      series: [
        { label: 'gateway', samplesMs: samples },
        {
          label: 'baseline',
          percentiles: [
            [0, 0.1],
            [50, 0.3],
            [99, 1.2],
            [100, 9],
          ],
        },
      ],
    });
    expect(XMLValidator.validate(svg)).toBe(true);
    const t = texts(svg);
    for (const label of [
      'Heartbeat latency',
      'percentile',
      'latency (ms)',
      'p50',
      'p99',
      'p99.9',
      'gateway',
      'baseline',
    ]) {
      expect(t).toContain(label);
    }
    // p100 is beyond the axis (p99.9) and is left out.
    expect(expectPointsInViewBox(svg)).toBe(2 * (percentileCurve(samples).length + 3));
  });
});

describe('axes', () => {
  it('rounds outward to 1/2/5 steps', () => {
    const axis = niceAxis(0, 9_734);
    expect(axis.min).toBe(0);
    expect(axis.max).toBe(10_000);
    expect(axis.ticks.map((t) => t.label)).toEqual(['0', '2,000', '4,000', '6,000', '8,000', '10,000']);
    expect(niceAxis(0, 0.37).ticks.at(-1)?.label).toBe('0.4');
  });

  it('widens a degenerate range', () => {
    const axis = niceAxis(0, 0);
    expect(axis.max).toBeGreaterThan(axis.min);
  });

  it('places percentiles on a log-ish scale', () => {
    expect(percentilePosition(0)).toBe(0);
    expect(percentilePosition(90)).toBeCloseTo(1);
    expect(percentilePosition(99)).toBeCloseTo(2);
    expect(percentilePosition(99.9)).toBeCloseTo(3);
    expect(percentileCurve([3, 1, 2]).at(0)).toEqual([0, 1]);
  });

  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).not.toMatch(/[<>"'&](?!#\d+;)/);
  });
});

/**
 * Two chart types on top of svg.ts: lines over a numeric x axis (throughput against record size)
 * and grouped bars (latency percentiles per rate and system). Either axis may be logarithmic;
 * min–max whiskers show the spread over repetitions.
 */
import { circle, element, escapeXml, line, polyline, rect, svgDocument, text } from './svg.js';

export const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface AxisSpec {
  readonly label: string;
  readonly log: boolean;
  readonly format: (value: number) => string;
  /** Tick values for a log axis (defaults to powers of ten in range). */
  readonly ticks?: readonly number[];
}

export interface Point {
  readonly x: number;
  readonly y: number;
  readonly low?: number;
  readonly high?: number;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly Point[];
  readonly dashed?: boolean;
}

interface Scale {
  (value: number): number;
  readonly ticks: readonly number[];
}

function makeScale(axis: AxisSpec, values: readonly number[], from: number, to: number): Scale {
  const present = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let min = present.length ? Math.min(...present) : 1;
  let max = present.length ? Math.max(...present) : 10;
  if (axis.log) {
    // With ticks given, the axis spans the ticks around the data; else whole decades.
    const below = axis.ticks?.filter((t) => t <= min);
    const above = axis.ticks?.filter((t) => t >= max);
    min = below?.length ? Math.max(...below) : 10 ** Math.floor(Math.log10(min));
    max = above?.length ? Math.min(...above) : 10 ** Math.ceil(Math.log10(max));
    if (min === max) max = min * 10;
    const span = Math.log10(max) - Math.log10(min);
    const scale = ((v: number) => from + ((Math.log10(Math.max(v, min)) - Math.log10(min)) / span) * (to - from)) as Scale;
    const ticks = axis.ticks?.filter((t) => t >= min && t <= max) ?? [];
    const decades: number[] = [];
    for (let t = min; t <= max * 1.0001; t *= 10) decades.push(t);
    return Object.assign(scale, { ticks: ticks.length ? ticks : decades });
  }
  min = Math.min(0, min);
  if (max <= min) max = min + 1;
  const step = niceStep((max - min) / 5);
  max = Math.ceil(max / step) * step;
  const scale = ((v: number) => from + ((v - min) / (max - min)) * (to - from)) as Scale;
  const ticks: number[] = [];
  for (let t = min; t <= max + step / 2; t += step) ticks.push(t);
  return Object.assign(scale, { ticks });
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

interface Margin {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Roughly how wide a text is at 12 px sans-serif (no font metrics here). */
function textWidth(text: string, fontSize = 12): number {
  return text.length * fontSize * 0.56;
}

/** Room on the right for the legend's longest entry. */
function marginFor(legendNames: readonly string[], bottom = 55): Margin {
  return { left: 80, right: 60 + Math.max(80, ...legendNames.map((name) => textWidth(name))), top: 40, bottom };
}

function frame(margin: Margin, width: number, height: number, title: string, xLabel: string, yLabel: string): string[] {
  return [
    text((margin.left + width - margin.right) / 2, 22, title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold' }),
    text((margin.left + width - margin.right) / 2, height - 10, xLabel, { 'text-anchor': 'middle' }),
    element('text', { x: 18, y: (margin.top + height - margin.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 18 ${(margin.top + height - margin.bottom) / 2})` }, [escapeXml(yLabel)]),
  ];
}

function yGrid(margin: Margin, y: Scale, axis: AxisSpec, width: number): string[] {
  return y.ticks.flatMap((t) => [
    line(margin.left, y(t), width - margin.right, y(t), { stroke: '#ddd' }),
    text(margin.left - 6, y(t) + 4, axis.format(t), { 'text-anchor': 'end' }),
  ]);
}

function legend(x: number, y: number, entries: readonly { name: string; color: string; dashed?: boolean }[]): string[] {
  return entries.flatMap((entry, i) => [
    line(x, y + i * 18, x + 22, y + i * 18, { stroke: entry.color, 'stroke-width': 3, 'stroke-dasharray': entry.dashed ? '6 3' : undefined }),
    text(x + 28, y + i * 18 + 4, entry.name),
  ]);
}

function whisker(x: number, low: number, high: number, color: string): string[] {
  return [line(x, low, x, high, { stroke: color }), line(x - 3, low, x + 3, low, { stroke: color }), line(x - 3, high, x + 3, high, { stroke: color })];
}

export function lineChart(spec: { title: string; x: AxisSpec; y: AxisSpec; series: readonly LineSeries[]; width?: number; height?: number }): string {
  const margin = marginFor(spec.series.map((s) => s.name));
  const width = spec.width ?? 640 + margin.right;
  const height = spec.height ?? 480;
  const points = spec.series.flatMap((s) => s.points);
  const x = makeScale(spec.x, points.map((p) => p.x), margin.left, width - margin.right);
  const y = makeScale(spec.y, points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]), height - margin.bottom, margin.top);
  const parts = [...frame(margin, width, height, spec.title, spec.x.label, spec.y.label), ...yGrid(margin, y, spec.y, width)];
  for (const t of x.ticks) {
    parts.push(line(x(t), margin.top, x(t), height - margin.bottom, { stroke: '#eee' }), text(x(t), height - margin.bottom + 16, spec.x.format(t), { 'text-anchor': 'middle' }));
  }
  parts.push(rect(margin.left, margin.top, width - margin.left - margin.right, height - margin.top - margin.bottom, { fill: 'none', stroke: '#999' }));
  spec.series.forEach((series, i) => {
    const color = palette[i % palette.length]!;
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    parts.push(polyline(sorted.map((p) => [x(p.x), y(p.y)] as const), { stroke: color, 'stroke-width': 2, 'stroke-dasharray': series.dashed ? '6 3' : undefined }));
    for (const p of sorted) {
      parts.push(circle(x(p.x), y(p.y), 3.5, { fill: color }));
      if (p.low !== undefined && p.high !== undefined && p.high > p.low) parts.push(...whisker(x(p.x), y(p.low), y(p.high), color));
    }
  });
  parts.push(...legend(width - margin.right + 16, margin.top + 8, spec.series.map((s, i) => ({ name: s.name, color: palette[i % palette.length]!, dashed: s.dashed }))));
  return svgDocument(width, height, parts);
}

export interface BarGroup {
  readonly label: string;
  /** One value per bar name, in the order of `barNames` (NaN for none). */
  readonly values: readonly Point[];
}

export function groupedBarChart(spec: {
  title: string;
  xLabel: string;
  y: AxisSpec;
  barNames: readonly string[];
  groups: readonly BarGroup[];
  /** A dashed horizontal line, e.g. a target. */
  reference?: { value: number; label: string };
  width?: number;
  height?: number;
}): string {
  const margin = marginFor(spec.barNames, 75);
  const longestLabel = Math.max(...spec.groups.flatMap((g) => g.label.split('\n').map((l) => textWidth(l, 11))));
  const groupWidthMin = Math.max(spec.barNames.length * 14 + 24, longestLabel + 14);
  const width = spec.width ?? Math.max(600, margin.left + spec.groups.length * groupWidthMin + margin.right);
  const height = spec.height ?? 480;
  const values = [...spec.groups.flatMap((g) => g.values.flatMap((v) => [v.y, v.high ?? v.y])), ...(spec.reference ? [spec.reference.value] : [])];
  const y = makeScale(spec.y, values, height - margin.bottom, margin.top);
  const parts = [...frame(margin, width, height, spec.title, spec.xLabel, spec.y.label), ...yGrid(margin, y, spec.y, width)];
  const plotWidth = width - margin.left - margin.right;
  const groupWidth = plotWidth / Math.max(1, spec.groups.length);
  const barWidth = Math.min(18, (groupWidth - 12) / spec.barNames.length);
  const base = y(spec.y.log ? (y.ticks[0] ?? 1) : 0);
  spec.groups.forEach((group, g) => {
    const left = margin.left + g * groupWidth + (groupWidth - barWidth * spec.barNames.length) / 2;
    group.values.forEach((value, b) => {
      if (!Number.isFinite(value.y)) return;
      const color = palette[b % palette.length]!;
      const x = left + b * barWidth;
      parts.push(rect(x, y(value.y), barWidth - 2, Math.max(1, base - y(value.y)), { fill: color }));
      if (value.low !== undefined && value.high !== undefined && value.high > value.low) parts.push(...whisker(x + barWidth / 2 - 1, y(value.low), y(value.high), '#333'));
    });
    const labelLines = group.label.split('\n');
    labelLines.forEach((labelLine, i) => parts.push(text(margin.left + g * groupWidth + groupWidth / 2, height - margin.bottom + 16 + i * 13, labelLine, { 'text-anchor': 'middle', 'font-size': 11 })));
  });
  parts.push(rect(margin.left, margin.top, plotWidth, height - margin.top - margin.bottom, { fill: 'none', stroke: '#999' }));
  if (spec.reference) {
    const at = y(spec.reference.value);
    parts.push(line(margin.left, at, margin.left + plotWidth, at, { stroke: '#000', 'stroke-dasharray': '6 4' }), text(margin.left + plotWidth + 6, at + 4, spec.reference.label, { 'font-size': 11 }));
  }
  parts.push(...legend(width - margin.right + 16, margin.top + 8, spec.barNames.map((name, i) => ({ name, color: palette[i % palette.length]! }))));
  return svgDocument(width, height, parts);
}

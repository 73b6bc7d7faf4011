/** Splits quick-add text into plain and recognised pieces for highlighting. */
import type { SpanKind } from '@/lib/types';

export interface ParseSpan {
  start: number;
  end: number;
  kind: SpanKind | string;
  text?: string;
}

export interface Segment {
  text: string;
  kind: string | null;
}

/**
 * Offsets are UTF-16 indices (what JS strings use). Spans that overlap an earlier one, run
 * past the text, or are empty are dropped rather than trusted: the server may have parsed an
 * older version of the text than the one on screen.
 */
export function segments(text: string, spans: ParseSpan[]): Segment[] {
  const sorted = [...spans]
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end > s.start && s.end <= text.length)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Segment[] = [];
  let pos = 0;
  for (const s of sorted) {
    if (s.start < pos) continue;
    if (s.start > pos) out.push({ text: text.slice(pos, s.start), kind: null });
    out.push({ text: text.slice(s.start, s.end), kind: s.kind });
    pos = s.end;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), kind: null });
  return out;
}

/**
 * What a project or section span says in words, for the description read out with the input
 * (the highlight itself is colour only): `#"Home office"` is "Project Home office", `/Doing`
 * "Section Doing". Other kinds are described from the parsed task's fields instead.
 */
export function placeLabel(span: ParseSpan): { kind: 'project' | 'section'; label: string } | null {
  if ((span.kind !== 'project' && span.kind !== 'section') || !span.text) return null;
  const name = span.text.replace(/^[#/]/, '').replace(/[,.;:?!]+$/, '').replace(/^"(.*)"$/, '$1').trim();
  return { kind: span.kind, label: `${span.kind === 'project' ? 'Project' : 'Section'} ${name}` };
}

import { describe, expect, it } from 'vitest';
import { placeLabel, segments } from '../highlight';

describe('segments', () => {
  it('splits text around recognised spans, in order', () => {
    const text = 'Submit report fri 5pm !high #work every week';
    const spans = [
      { start: 28, end: 33, kind: 'tag' },
      { start: 14, end: 17, kind: 'date' },
      { start: 18, end: 21, kind: 'time' },
      { start: 22, end: 27, kind: 'priority' },
      { start: 34, end: 44, kind: 'recurrence' },
    ];
    expect(segments(text, spans)).toEqual([
      { text: 'Submit report ', kind: null },
      { text: 'fri', kind: 'date' },
      { text: ' ', kind: null },
      { text: '5pm', kind: 'time' },
      { text: ' ', kind: null },
      { text: '!high', kind: 'priority' },
      { text: ' ', kind: null },
      { text: '#work', kind: 'tag' },
      { text: ' ', kind: null },
      { text: 'every week', kind: 'recurrence' },
    ]);
  });

  it('uses UTF-16 offsets, so text after an emoji lines up', () => {
    const text = '🎉 party sat #fun';
    // '🎉' is two UTF-16 code units.
    expect(segments(text, [{ start: 9, end: 12, kind: 'date' }, { start: 13, end: 17, kind: 'tag' }])).toEqual([
      { text: '🎉 party ', kind: null },
      { text: 'sat', kind: 'date' },
      { text: ' ', kind: null },
      { text: '#fun', kind: 'tag' },
    ]);
  });

  it('drops spans that overlap, are empty or fall outside the text', () => {
    expect(
      segments('call mom', [
        { start: 0, end: 4, kind: 'date' },
        { start: 2, end: 6, kind: 'tag' },
        { start: 5, end: 5, kind: 'tag' },
        { start: 5, end: 40, kind: 'tag' },
      ]),
    ).toEqual([
      { text: 'call', kind: 'date' },
      { text: ' mom', kind: null },
    ]);
    // Joined back together, the segments are always the text itself.
    expect(segments('', [{ start: 0, end: 1, kind: 'tag' }])).toEqual([]);
  });

  it('keeps project and section spans apart from tags, after an emoji too', () => {
    const text = '🎉 Plan #"Home office" /Doing @fun';
    const spans = [
      { start: 8, end: 22, kind: 'project', text: '#"Home office"' },
      { start: 23, end: 29, kind: 'section', text: '/Doing' },
      { start: 30, end: 34, kind: 'tag', text: '@fun' },
    ];
    expect(segments(text, spans)).toEqual([
      { text: '🎉 Plan ', kind: null },
      { text: '#"Home office"', kind: 'project' },
      { text: ' ', kind: null },
      { text: '/Doing', kind: 'section' },
      { text: ' ', kind: null },
      { text: '@fun', kind: 'tag' },
    ]);
  });
});

describe('placeLabel', () => {
  it('names the project or section a span picks, without its sign or quotes', () => {
    expect(placeLabel({ start: 0, end: 14, kind: 'project', text: '#"Home office"' })).toEqual({ kind: 'project', label: 'Project Home office' });
    expect(placeLabel({ start: 0, end: 6, kind: 'section', text: '/Doing' })).toEqual({ kind: 'section', label: 'Section Doing' });
    expect(placeLabel({ start: 0, end: 5, kind: 'section', text: '/"Next up",' })).toEqual({ kind: 'section', label: 'Section Next up' });
    expect(placeLabel({ start: 0, end: 5, kind: 'tag', text: '#work' })).toBeNull();
  });
});

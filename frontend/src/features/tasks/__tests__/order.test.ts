import { describe, expect, it } from 'vitest';
import { makeTask } from '@/test/tasks';
import { compareManual, dropOnSection, dropOnTask, keyBetween, localPosition, moveBy, nestSubtasks } from '../order';

const parent = makeTask('p', { title: 'Plan trip', subtasks: { total: 2, done: 0 } });
const second = makeTask('s2', { parentId: 'p', position: 'c' });
const first = makeTask('s1', { parentId: 'p', position: '4' });
const other = makeTask('o', { title: 'Other' });

describe('nesting subtasks', () => {
  it('puts each subtask right under its parent, in manual order, wherever the list had it', () => {
    const rows = nestSubtasks([second, other, parent, first]);
    expect(rows.map((r) => [r.task.id, r.nested])).toEqual([
      ['o', false],
      ['p', false],
      ['s1', true],
      ['s2', true],
    ]);
    expect(rows.find((r) => r.task.id === 'p')?.children).toBe(2);
  });

  it('shows a subtask whose parent is not in the list as a row of its own, naming the parent when known', () => {
    const rows = nestSubtasks([other, first], new Map([['p', 'Plan trip']]));
    expect(rows.map((r) => [r.task.id, r.nested, r.parentTitle])).toEqual([
      ['o', false, undefined],
      ['s1', false, 'Plan trip'],
    ]);
    expect(nestSubtasks([first])[0]?.parentTitle).toBeUndefined();
  });

  it('hides the subtasks of a collapsed parent but still counts them', () => {
    const rows = nestSubtasks([parent, first, second], new Map(), new Set(['p']));
    expect(rows.map((r) => r.task.id)).toEqual(['p']);
    expect(rows[0]?.children).toBe(2);
  });
});

describe('the manual order', () => {
  it('compares keys as strings, then ids', () => {
    const tasks = [makeTask('b', { position: '8' }), makeTask('c', { position: '08' }), makeTask('a', { position: '8' }), makeTask('d', { position: '81' })];
    expect(tasks.sort(compareManual).map((t) => t.id)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('finds a key strictly between two others, or before/after all', () => {
    const cases: [string | null, string | null][] = [
      [null, null],
      [null, '8'],
      ['8', null],
      ['8', '9'],
      ['8', '81'],
      ['7f', '8'],
      ['0000019a2b3c4d5e8', '0000019a2b3c4d5f8'],
    ];
    for (const [lo, hi] of cases) {
      const k = keyBetween(lo, hi)!;
      expect(k).toMatch(/^[0-9a-f]*[1-9a-f]$/);
      if (lo !== null) expect(k > lo).toBe(true);
      if (hi !== null) expect(k < hi).toBe(true);
    }
    expect(keyBetween('8', '8')).toBeNull();
    expect(keyBetween('9', '8')).toBeNull();
  });

  it('gives a moved task a key between its new neighbours', () => {
    const list = [makeTask('a', { position: '4' }), makeTask('b', { position: '8' }), makeTask('c', { position: 'c' })];
    const after = (id: string | null) => localPosition(list, id)!;
    expect(after(null) < '4').toBe(true);
    expect(after('a') > '4' && after('a') < '8').toBe(true);
    expect(after('c') > 'c').toBe(true);
    expect(localPosition(list, 'missing')).toBeUndefined();
    // Two siblings with one key: after both of them.
    const tied = [makeTask('a', { position: '8' }), makeTask('b', { position: '8' })];
    expect(localPosition(tied, 'a')! > '8').toBe(true);
  });
});

describe('move up and down', () => {
  const list = ['a', 'b', 'c', 'd'].map((id) => makeTask(id));
  it('up goes after the task two above, or first', () => {
    expect(moveBy(list, 'c', 'up')).toEqual({ afterId: 'a' });
    expect(moveBy(list, 'b', 'up')).toEqual({ afterId: null });
    expect(moveBy(list, 'a', 'up')).toBeNull();
  });
  it('down goes after the next task', () => {
    expect(moveBy(list, 'a', 'down')).toEqual({ afterId: 'b' });
    expect(moveBy(list, 'c', 'down')).toEqual({ afterId: 'd' });
    expect(moveBy(list, 'd', 'down')).toBeNull();
  });
});

describe('dropping', () => {
  const a = makeTask('a', { sectionId: 'beds' });
  const b = makeTask('b', { sectionId: 'beds' });
  const c = makeTask('c', { sectionId: 'lawn' });
  const cSub = makeTask('cs', { sectionId: 'lawn', parentId: 'c' });
  const aSub1 = makeTask('as1', { sectionId: 'beds', parentId: 'a' });
  const aSub2 = makeTask('as2', { sectionId: 'beds', parentId: 'a' });
  const tasks = [a, b, c, cSub, aSub1, aSub2];

  it('on a task of the same section places the dragged one after it', () => {
    expect(dropOnTask(b, a, tasks)).toEqual({ afterId: 'a' });
  });
  it('on a task of another section also moves it into that section', () => {
    expect(dropOnTask(a, c, tasks)).toEqual({ afterId: 'c', sectionId: 'lawn' });
    expect(dropOnTask(c, makeTask('x', { sectionId: null }), [...tasks])).toEqual({ afterId: 'x', sectionId: null });
  });
  it('on a subtask of another task places the dragged task after that parent', () => {
    expect(dropOnTask(b, cSub, tasks)).toEqual({ afterId: 'c', sectionId: 'lawn' });
    expect(dropOnTask(a, aSub1, tasks)).toBeNull();
  });
  it('keeps subtasks among their siblings (first when dropped on the parent)', () => {
    expect(dropOnTask(aSub1, aSub2, tasks)).toEqual({ afterId: 'as2' });
    expect(dropOnTask(aSub2, a, tasks)).toEqual({ afterId: null });
    expect(dropOnTask(aSub1, b, tasks)).toBeNull();
    expect(dropOnTask(aSub1, cSub, tasks)).toBeNull();
    expect(dropOnTask(a, a, tasks)).toBeNull();
  });
  it('on a section puts it first there', () => {
    expect(dropOnSection(a, 'lawn')).toEqual({ afterId: null, sectionId: 'lawn' });
    expect(dropOnSection(a, 'beds')).toEqual({ afterId: null });
    expect(dropOnSection(a, null)).toEqual({ afterId: null, sectionId: null });
    expect(dropOnSection(aSub1, 'lawn')).toBeNull();
  });
});

import { Dialog } from './dialog';

export const SHORTCUTS: [string, string][] = [
  ['n', 'Focus the quick-add box'],
  ['N (Shift+n)', 'Open the full editor for a new task'],
  ['/', 'Search tasks'],
  ['s', 'Show or hide suggestions'],
  ['c', 'Open the assistant chat'],
  ['t', 'Switch light / dark theme'],
  [',', 'Settings'],
  ['?', 'This list'],
  ['Enter', 'In quick add: create the task'],
  ['Esc', 'Close a dialog or leave a field'],
];

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

/** Single-key shortcuts must not fire while the user types into a field. */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

import { Modal } from "../ui/Modal";
import { SHORTCUTS } from "./useCanvasShortcuts";

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} width={460}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <td>
                {s.keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && " + "}
                    <kbd className="kbd">{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{s.action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">On macOS, Cmd works wherever Ctrl is written.</p>
    </Modal>
  );
}

/** A rename makes a new flow (the name is its identity): keep the old one too, or forget it. */
import { Modal } from '../../components/Modal';

/** `onAnswer(true)`: save as new and forget the old; `false`: keep both; `null`: cancel. */
export function RenameDialog({ originalName, newName, onAnswer }: { originalName: string; newName: string; onAnswer(removeOld: boolean | null): void }) {
  return (
    <Modal
      title="Rename makes a new flow"
      onClose={() => onAnswer(null)}
      footer={
        <>
          <button className="btn" onClick={() => onAnswer(null)}>Cancel</button>
          <button className="btn" onClick={() => onAnswer(false)} data-testid="rename-keep">Keep “{originalName}” too</button>
          <button className="btn primary" onClick={() => onAnswer(true)} data-testid="rename-replace">Save as new, forget the old</button>
        </>
      }
    >
      <p style={{ margin: 0 }}>
        A flow’s name is its identity. Saving as “{newName}” creates a new flow with no tracked rows: its first apply treats the target as new. “{originalName}” keeps what it created in the databases until you drop it.
      </p>
    </Modal>
  );
}

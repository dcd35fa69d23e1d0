/** Go to a key: the grid shows the rows from this primary-key value on (a composite key: values separated by commas). */
import { useState } from 'react';
import { useApp, useS } from '../app-context';

export function GoToKey() {
  const app = useApp();
  const keys = useS(app.browse, (s) => s.keyColumns);
  const [text, setText] = useState('');
  if (keys.length === 0) return null;
  const go = () => {
    const values = keys.length === 1 ? [text.trim()] : text.split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) return;
    void app.browse.getState().goToKey(values);
  };
  return (
    <input
      className="goto-key"
      placeholder={`go to ${keys.join(', ')}…`}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => { if (e.key === 'Enter') go(); }}
      aria-label={`Go to the row with this ${keys.join(', ')}`}
      title={`Show the rows from this ${keys.join(', ')} on (key order)${keys.length > 1 ? '; separate the values with commas' : ''}`}
      data-testid="go-to-key"
    />
  );
}

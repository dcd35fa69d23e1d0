/** The live monitor of a flow: listener state (and why), the change feed, throughput and latency. */
import { useEffect, useState } from 'react';
import { useApp, useS } from '../app-context';
import { Empty, ErrorBox } from '../components/States';
import { Modal } from '../components/Modal';
import { LiveChart } from '../components/LiveChart';
import { fmtCount, fmtMs, fmtTime } from '../lib/format';
import { useShortcut } from '../lib/shortcuts';
import { FEED_MAX, RATE_SECONDS } from '../stores/monitor';
import { SetMonitor } from './SetMonitor';
import { catchUpText, ChangeFeed, STATE_TEXT, TotalsBadges } from './monitor/ChangeFeed';

export function MonitorScreen() {
  const app = useApp();
  const view = useS(app.ui, (s) => s.view);
  const theme = useS(app.ui, (s) => s.theme);
  const flows = useS(app.flows, (s) => s.list);
  const connections = useS(app.connections, (s) => s.list);
  const sets = useS(app.sets, (s) => s.list);
  const m = useS(app.monitor, (s) => s);
  const [tick, setTick] = useState(0);
  const [resyncAsk, setResyncAsk] = useState(false);
  const selected = (view.name === 'monitor' ? view.flow : undefined) ?? (flows.some((f) => f.name === m.selected) ? m.selected : null) ?? flows.find((f) => f.watching)?.name ?? flows[0]?.name ?? null;

  useEffect(() => {
    if (selected !== app.monitor.getState().selected) void app.monitor.getState().select(selected);
  }, [selected, app]);
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  useShortcut('Space', () => app.monitor.getState().setPaused(!app.monitor.getState().paused));
  useShortcut(' ', () => app.monitor.getState().setPaused(!app.monitor.getState().paused));

  const watchedSet = (view.name === 'monitor' ? view.set : undefined) ?? (flows.length === 0 ? sets[0]?.name : undefined);
  const picker = (current: string) => (
    <select value={current} onChange={(e) => { const [kind, ...rest] = e.target.value.split(':'); const n = rest.join(':'); app.ui.getState().go(kind === 'set' ? { name: 'monitor', set: n } : { name: 'monitor', flow: n }); }} aria-label="Flow or set" data-testid="monitor-flow" style={{ flexShrink: 0 }}>
      <optgroup label="Flows">
        {flows.map((f) => <option key={f.name} value={`flow:${f.name}`}>{f.name}</option>)}
      </optgroup>
      {sets.length > 0 && (
        <optgroup label="Sets">
          {sets.map((x) => <option key={x.name} value={`set:${x.name}`}>set {x.name}</option>)}
        </optgroup>
      )}
    </select>
  );
  if (watchedSet) return <SetMonitor set={watchedSet} picker={picker(`set:${watchedSet}`)} tick={tick} />;
  if (flows.length === 0 && sets.length === 0) return <Empty title="No flows to monitor" testId="monitor-empty">Set up a flow first; then start watching it here.</Empty>;
  if (!selected) return null;
  const fm = m.flows[selected];
  const st = fm?.status ?? null;
  const watching = fm?.watching ?? false;
  const feed = app.monitor.getState().visibleFeed(selected);
  const rate = app.monitor.getState().throughput(selected); // re-read every tick (the clock moves)
  const summary = flows.find((f) => f.name === selected);

  const openGrid = async () => {
    if (!summary) return;
    // The grid browses the active connection: make it the flow's source first (the summary names it).
    const src = connections.find((c) => c.name === summary.source.connection);
    if (src && src.id !== app.connections.getState().activeId) {
      await app.catalog.getState().open(src.id);
      app.connections.getState().select(src.id);
    }
    app.catalog.getState().select({ schema: summary.source.schema, table: summary.source.table });
    app.ui.getState().go({ name: 'table' });
  };

  return (
    <div className="page" data-testid="monitor-screen" style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
      <div className="page-head" style={{ marginBottom: 0, flexWrap: 'wrap' }}>
        <h1>Monitor</h1>
        {picker(`flow:${selected}`)}
        <span className={`state-pill ${st?.state ?? (watching ? 'connecting' : 'stopped')}`} data-testid="listener-state" data-state={st?.state ?? (watching ? 'connecting' : 'stopped')}>
          <span className="dot" /> {st ? STATE_TEXT[st.state] : watching ? 'starting' : 'not watching'}
          {st?.state === 'reconnecting' && st.attempt ? ` (attempt ${st.attempt})` : ''}
        </span>
        {st?.stalenessMs !== undefined && <span className={st.stalenessMs > 5000 ? 'error-text' : 'muted'} data-testid="staleness" title="How stale the target is: time since it was last known to match the source (catch-ups included)">target {st.stalenessMs === 0 ? 'up to date' : `${fmtMs(st.stalenessMs)} behind`}</span>}
        {st?.slot && !st.slot.lost && <span className={st.slot.warning ? 'error-text' : 'muted'} data-testid="slot-lag" title={st.slot.warning ?? `replication slot "${st.slot.name}": WAL held on the source`}>slot {st.slot.lagBytes === null ? '—' : fmtBytes(st.slot.lagBytes)}{st.slot.lagMs !== null ? ` · ${fmtMs(st.slot.lagMs)}` : ''}{st.slot.warning ? ` · ${st.slot.warning}` : ''}</span>}
        {st?.reason && <span className="muted" data-testid="listener-reason" style={{ maxWidth: 420, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={st.reason}>{st.reason}</span>}
        <span className="grow" />
        {summary?.demo && <DemoActivity />}
        {summary && <button className="btn" onClick={() => void openGrid()}>Open {summary.source.table}</button>}
        {!watching && st?.slot?.lost && (
          <button className="btn danger" onClick={() => setResyncAsk(true)} disabled={m.busy} data-testid="watch-resync" title={`Replication slot "${st.slot.name}" was invalidated: drop and recreate it, then a full catch-up`}>Resync…</button>
        )}
        {watching ? (
          <button className="btn danger" onClick={() => void app.monitor.getState().stop(selected)} disabled={m.busy} data-testid="watch-stop">Stop watching</button>
        ) : (
          <button className="btn primary" onClick={() => void app.monitor.getState().start(selected)} disabled={m.busy} data-testid="watch-start">
            {m.busy ? <><span className="spinner" /> Starting…</> : 'Start watching'}
          </button>
        )}
      </div>
      {m.error && <ErrorBox message={m.error} testId="monitor-error" />}
      {!watching && st?.slot?.lost && (
        <div className="alert error" data-testid="slot-lost">
          <div>Replication slot <b className="mono">{st.slot.name}</b> was invalidated: it fell further behind than the source's <span className="mono">max_slot_wal_keep_size</span> allows,
          and the server removed WAL it needed, so the changes since it last confirmed are gone. Resync recreates it and compares the whole table again.</div>
        </div>
      )}
      {resyncAsk && st?.slot && (
        <Modal
          title={`Resync “${selected}”?`}
          onClose={() => setResyncAsk(false)}
          width={560}
          footer={
            <>
              <span className="grow" />
              <button className="btn" onClick={() => setResyncAsk(false)}>Cancel</button>
              <button className="btn danger" data-testid="resync-confirm" autoFocus
                onClick={() => { setResyncAsk(false); void app.monitor.getState().start(selected, { resync: true }); }}>Drop the slot and resync</button>
            </>
          }
        >
          <div className="stack" data-testid="resync-text">
            <p style={{ margin: 0 }}>This drops TableSync's replication slot <b className="mono">{st.slot.name}</b> on the source and creates it again, then runs a full catch-up:</p>
            <ul style={{ margin: 0 }}>
              <li>every row of the source table is read and compared with the target (on a large table about as long as the first sync took), and only the rows that differ are written;</li>
              <li>then the watch goes live from the new slot.</li>
            </ul>
            <p className="muted" style={{ margin: 0 }}>Nothing else on the source is touched. To keep it from happening again, watch the slot's lag, or raise <span className="mono">max_slot_wal_keep_size</span> on the source.</p>
          </div>
        </Modal>
      )}
      <div className="grid2" style={{ gridTemplateColumns: '2fr 1fr' }}>
        <section className="panel" style={{ minWidth: 0 }}>
          <header>
            <h2 className="grow">Throughput and latency</h2>
            <span className="muted" data-testid="rate">{rate.perSecond.toFixed(1)}/s · avg {rate.avgLatencyMs !== null ? fmtMs(rate.avgLatencyMs) : '—'} ({RATE_SECONDS} s)</span>
          </header>
          <div className="content" style={{ padding: '6px 8px' }}>
            <LiveChart series={fm?.series ?? []} theme={theme} tick={tick} />
          </div>
        </section>
        <section className="panel" style={{ minWidth: 0 }}>
          <header><h2 className="grow">Listener</h2><span className="faint mono" style={{ fontSize: 11, maxWidth: '100%', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={st?.channel}>{st?.channel ?? ''}</span></header>
          <div className="content">
            <div className="row wrap" style={{ marginBottom: 8 }} data-testid="totals">
              <TotalsBadges totals={fm?.totals} />
              {Object.keys(fm?.totals ?? {}).length === 0 && <span className="faint">No changes seen yet.</span>}
            </div>
            <div className="status-log" data-testid="status-log">
              {(fm?.statusLog ?? []).map((s, i) => (
                <div key={i}>
                  <span className="faint mono">{fmtTime(s.time)}</span> <b>{STATE_TEXT[s.state]}</b>
                  {s.caughtUp !== undefined ? ` · caught up ${fmtCount(s.caughtUp)} row${s.caughtUp === 1 ? '' : 's'}` : ''}
                  {s.catchUp ? <span className="muted" data-testid="catch-up-info"> · {catchUpText(s.catchUp)}</span> : null}
                  {s.state === 'live' && s.caughtUp === undefined && s.stalenessMs ? <span className="muted"> · {fmtMs(s.stalenessMs)} behind</span> : null}
                  {s.reason ? <span className="muted"> · {s.reason}</span> : null}
                </div>
              ))}
              {(fm?.statusLog.length ?? 0) === 0 && <span className="faint">{watching ? 'Waiting for the listener…' : 'Start watching to see the listener here.'}</span>}
            </div>
          </div>
        </section>
      </div>
      <ChangeFeed
        feed={feed}
        watching={watching}
        held={fm?.held.length ?? 0}
        listeningText="Listening. Changes to the source table appear here as they happen."
        countText={`${fmtCount(feed.length)} shown${feed.length !== (fm?.feed.length ?? 0) ? ` of ${fmtCount(fm?.feed.length ?? 0)}` : ''} (latest ${FEED_MAX} kept)`}
      />
    </div>
  );
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The demo's write simulator, so the live feed has something to show without a database of one's own. */
function DemoActivity() {
  const app = useApp();
  const demo = useS(app.connections, (s) => s.demo);
  const running = demo?.activity.running ?? false;
  const toggle = async () => {
    try {
      const d = running ? await app.api.call('demo.activityStop', {}) : await app.api.call('demo.activityStart', { ratePerSecond: 5 });
      app.connections.setState({ demo: d });
    } catch (e) {
      app.ui.getState().toast('error', e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <button className="btn" onClick={() => void toggle()} title="Writes to the demo source, a few rows a second">
      {running ? '■ Stop simulated writes' : '▶ Simulate writes'}
    </button>
  );
}

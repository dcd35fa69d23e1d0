/**
 * The demo's activity simulator: a few writes per second on the demo source (mostly product price
 * changes, some new products, the odd deletion, new order lines) so the live monitor has something
 * to show. Every write bumps `modified_time`, as a real application would.
 */
import type pg from 'pg';

export interface ActivityEvent {
  time: string;
  table: string;
  op: 'insert' | 'update' | 'delete';
  key: Record<string, string | null>;
}

export interface ActivityOptions {
  ratePerSecond: number;
  onWrite?: (e: ActivityEvent) => void;
  onError?: (e: unknown) => void;
}

export class ActivitySimulator {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private rate = 0;
  applied = 0;

  constructor(private readonly pool: pg.Pool) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  start(opts: ActivityOptions): void {
    this.stopTimer();
    this.rate = opts.ratePerSecond;
    const interval = Math.max(1, Math.round(1000 / opts.ratePerSecond));
    this.timer = setInterval(() => {
      if (this.inFlight) return; // never pile up writes behind a slow server
      this.inFlight = this.step()
        .then((e) => {
          this.applied++;
          opts.onWrite?.(e);
        })
        .catch((err: unknown) => opts.onError?.(err))
        .finally(() => { this.inFlight = undefined; });
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopTimer();
    this.rate = 0;
    await this.inFlight;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One write. The choice is random; the values come from PostgreSQL. */
  async step(): Promise<ActivityEvent> {
    const time = () => new Date().toISOString();
    const r = Math.random();
    if (r < 0.6) {
      // A random existing id: the first at or after a random point of the key range (an index probe).
      const res = await this.pool.query<{ id: string }>(
        `UPDATE products SET price = round((price * (0.9 + random() * 0.2))::numeric, 2), modified_time = clock_timestamp()
          WHERE id = (SELECT id FROM products WHERE id >= (SELECT floor(random() * max(id))::bigint + 1 FROM products) ORDER BY id LIMIT 1)
          RETURNING id::text`,
      );
      return { time: time(), table: 'products', op: 'update', key: { id: res.rows[0]?.id ?? null } };
    }
    if (r < 0.8) {
      const res = await this.pool.query<{ id: string }>(
        `INSERT INTO products (sku, name, description, price, tags, attributes, embedding)
         SELECT 'NEW-' || substr(md5(random()::text), 1, 12), 'New arrival ' || to_char(clock_timestamp(), 'HH24:MI:SS.MS'),
                'Just added by the activity simulator.', round((5 + random() * 500)::numeric, 2), ARRAY['new'],
                jsonb_build_object('weight_kg', round((random() * 10)::numeric, 1)),
                ARRAY(SELECT round(random()::numeric, 4)::real FROM generate_series(1, 16))
         RETURNING id::text`,
      );
      return { time: time(), table: 'products', op: 'insert', key: { id: res.rows[0]?.id ?? null } };
    }
    if (r < 0.87) {
      const res = await this.pool.query<{ id: string }>(
        `DELETE FROM products WHERE id = (SELECT max(id) FROM products WHERE sku LIKE 'NEW-%') RETURNING id::text`,
      );
      if (res.rows[0]) return { time: time(), table: 'products', op: 'delete', key: { id: res.rows[0].id } };
    }
    const res = await this.pool.query<{ order_id: string; line_no: string }>(
      `INSERT INTO order_lines (order_id, line_no, customer_id, product_id, quantity, unit_price, updated_at)
       SELECT coalesce(max(order_id), 0) + 1, 1, (SELECT id FROM customers LIMIT 1), (SELECT min(id) FROM products),
              1 + floor(random() * 4)::int, round((5 + random() * 300)::numeric, 2), localtimestamp
         FROM order_lines
       RETURNING order_id::text, line_no::text`,
    );
    return { time: time(), table: 'order_lines', op: 'insert', key: { order_id: res.rows[0]?.order_id ?? null, line_no: res.rows[0]?.line_no ?? null } };
  }
}

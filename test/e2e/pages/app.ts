/**
 * Page objects for the journey: each screen's actions and what it shows, in the user's words, so
 * the journey test reads as the user's path. Selectors are the data-testid hooks of the renderer.
 */
import type { Locator, Page } from 'playwright-core';
import { shot } from '../support/env';

const T = 30_000;

export interface ConnectionFields { host: string; port: string; database: string; user: string; password: string; sslmode: string }

export class AppPage {
  constructor(readonly page: Page) {}

  async go(screen: 'Connections' | 'Explorer' | 'Flows' | 'Sets' | 'Monitor'): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();
  }
  async screenshot(name: string): Promise<string> {
    await this.page.waitForTimeout(150); // let transitions settle
    return shot(this.page, name);
  }
  async toggleTheme(): Promise<void> {
    await this.page.getByRole('button', { name: 'Toggle theme' }).click();
  }
  text(testId: string): Promise<string> {
    return this.page.getByTestId(testId).innerText({ timeout: T });
  }
  async waitText(locator: Locator, re: RegExp, timeout = T): Promise<string> {
    const end = Date.now() + timeout;
    let last = '';
    while (Date.now() < end) {
      last = (await locator.innerText().catch(() => '')) ?? '';
      if (re.test(last)) return last;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`waited ${timeout} ms for ${re} but saw: ${last.slice(0, 500)}`);
  }
}

export class ConnectionsPage extends AppPage {
  async addByUrl(name: string, url: string): Promise<string> {
    await this.page.getByTestId('add-connection').click();
    await this.page.getByLabel('Connection name').fill(name);
    await this.page.getByLabel('Connection URL').fill(url);
    await this.page.getByTestId('test-connection').click();
    const result = await this.waitText(this.page.getByRole('dialog').getByTestId('test-result'), /connected|✕/);
    return result;
  }
  /** The form's Fields mode (host, port, database, user, password, sslmode); tests the draft. */
  async addByFields(name: string, f: ConnectionFields): Promise<string> {
    await this.page.getByTestId('add-connection').click();
    const dialog = this.page.getByRole('dialog');
    await dialog.getByRole('group', { name: 'Enter as' }).getByRole('button', { name: 'Fields' }).click();
    await this.page.getByLabel('Connection name').fill(name);
    return this.testFields(f);
  }
  /** Fill the Fields form (as far as given) and press Test; the dialog's test line. */
  async testFields(f: Partial<ConnectionFields>): Promise<string> {
    const dialog = this.page.getByRole('dialog');
    for (const [label, v] of [['Host', f.host], ['Port', f.port], ['Database', f.database], ['User', f.user], ['Password', f.password]] as const) {
      if (v !== undefined) await dialog.getByLabel(label, { exact: true }).fill(v);
    }
    if (f.sslmode) await dialog.getByLabel('SSL mode').selectOption(f.sslmode);
    const line = dialog.getByTestId('test-result');
    const before = (await line.count()) ? await line.innerText() : '';
    await this.page.getByTestId('test-connection').click();
    // a new answer: the line changes (or appears) after this click
    const end = Date.now() + T;
    let last = before;
    while (Date.now() < end) {
      last = (await line.count()) ? await line.innerText({ timeout: 1000 }).catch(() => '') : '';
      if (last && last !== before && /connected|✕/.test(last)) return last;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`no new test result in the dialog; saw: ${last}`);
  }
  async save(): Promise<void> {
    await this.page.getByTestId('save-connection').click();
    await this.page.getByRole('dialog').waitFor({ state: 'detached', timeout: T });
  }
  card(name: string): Locator {
    return this.page.locator(`[data-connection="${name}"]`);
  }
  async open(name: string): Promise<void> {
    await this.card(name).getByRole('button', { name: 'Open' }).click();
  }
}

export class TablePage extends AppPage {
  grid = this.page.getByTestId('grid');
  async openTable(schema: string, table: string): Promise<void> {
    await this.page.locator(`[data-table="${schema}.${table}"]`).click();
    await this.page.getByTestId('table-title').filter({ hasText: table }).waitFor({ timeout: T });
    await this.grid.locator('[data-row="0"]').waitFor({ timeout: T });
  }
  treeItem(schema: string, table: string): Locator {
    return this.page.locator(`[data-table="${schema}.${table}"]`);
  }
  /** Cell texts of a rendered row (without the row number). */
  async row(i: number): Promise<string[]> {
    const cells = this.grid.locator(`[data-row="${i}"] [role=gridcell]`);
    return cells.allInnerTexts();
  }
  async lastRenderedRow(): Promise<string[]> {
    const rows = this.grid.locator('[role=row][data-row]');
    const idx = await rows.evaluateAll((els) => Math.max(...els.map((e) => Number(e.getAttribute('data-row')))));
    return this.row(idx);
  }
  async firstRenderedRow(): Promise<string[]> {
    const rows = this.grid.locator('[role=row][data-row]');
    const idx = await rows.evaluateAll((els) => Math.min(...els.map((e) => Number(e.getAttribute('data-row')))));
    return this.row(idx);
  }
  async columnNames(): Promise<string[]> {
    return this.grid.locator('[role=columnheader]').evaluateAll((els) => els.map((e) => e.getAttribute('data-column') ?? ''));
  }
  async jumpToEnd(): Promise<void> {
    await this.page.getByTestId('jump-end').click();
  }
  async sortBy(column: string): Promise<void> {
    await this.grid.locator(`[role=columnheader][data-column="${column}"]`).click();
  }
  async typeFilter(text: string): Promise<void> {
    const ed = this.page.getByTestId('filter-editor').locator('.cm-content');
    await ed.click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Backspace');
    await this.page.keyboard.type(text, { delay: 5 });
  }
  filterStatus(): Locator {
    return this.page.getByTestId('filter-status');
  }
  async applyFilterWithKeyboard(): Promise<void> {
    await this.page.getByTestId('filter-editor').locator('.cm-content').click();
    await this.page.keyboard.press('Control+Enter');
  }
  async openCell(row: number, column: string): Promise<void> {
    const cols = await this.columnNames();
    const ci = cols.indexOf(column);
    await this.grid.locator(`[data-row="${row}"] [role=gridcell]`).nth(ci).dblclick();
    await this.page.getByTestId('cell-viewer').waitFor({ timeout: T });
  }
  async toggleColumn(column: string): Promise<void> {
    await this.page.getByTestId('columns-button').click();
    await this.page.getByTestId('columns-popover').locator('label', { hasText: column }).first().click();
    await this.page.getByTestId('columns-button').click();
  }
}

export class FlowEditorPage extends AppPage {
  async startFromOpenTable(): Promise<void> {
    await this.page.getByTestId('new-flow').click();
    await this.page.getByTestId('flow-editor').waitFor({ timeout: T });
    await this.page.getByTestId('columns-table').waitFor({ timeout: T });
  }
  async fill(label: string, value: string): Promise<void> {
    await this.page.getByLabel(label, { exact: true }).fill(value);
  }
  async typeFilter(text: string): Promise<void> {
    await this.page.getByTestId('flow-filter').locator('.cm-content').click();
    await this.page.keyboard.type(text, { delay: 5 });
  }
}

export class PlanPage extends AppPage {
  async counts(): Promise<Record<string, number>> {
    const cards = this.page.getByTestId('plan-counts').locator('[data-count]');
    await cards.first().waitFor({ timeout: 120_000 });
    const out: Record<string, number> = {};
    for (const c of await cards.all()) out[(await c.getAttribute('data-count'))!] = Number((await c.locator('.n').innerText()).replace(/,/g, ''));
    return out;
  }
  async waitForPlan(timeout = 120_000): Promise<void> {
    await this.page.getByTestId('plan-counts').waitFor({ timeout });
  }
}

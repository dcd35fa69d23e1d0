/** Page objects for the inspecting screens: the tabs beside a table's rows, Structure, SQL console, export. */
import type { Locator } from 'playwright-core';
import { AppPage } from './app';

const T = 30_000;

export class InspectPage extends AppPage {
  tab(name: 'rows' | 'structure' | 'sql'): Locator {
    return this.page.getByTestId(`tab-${name}`);
  }
  async openStructure(): Promise<void> {
    await this.tab('structure').click();
    await this.page.getByTestId('structure-ddl').waitFor({ timeout: T });
  }
  /** Wait for the Structure tab to show `schema.table`. */
  async structureOf(schema: string, table: string): Promise<void> {
    await this.page.getByTestId('structure-ddl').filter({ hasText: `CREATE ` }).filter({ hasText: ` ${schema}.${table} ` }).first().waitFor({ timeout: T });
  }
}

export class ConsolePage extends AppPage {
  grid = this.page.getByTestId('console-grid');
  async open(): Promise<void> {
    await this.page.getByTestId('tab-sql').click();
    await this.page.getByTestId('console-editor').waitFor({ timeout: T });
  }
  async type(sql: string): Promise<void> {
    const ed = this.page.getByTestId('console-editor').locator('.cm-content');
    await ed.click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Backspace');
    await this.page.keyboard.insertText(sql);
  }
  async run(): Promise<void> {
    await this.page.getByTestId('console-editor').locator('.cm-content').click();
    await this.page.keyboard.press('Control+Enter');
  }
  status(): Locator {
    return this.page.getByTestId('console-status');
  }
  async row(i: number): Promise<string[]> {
    return this.grid.locator(`[data-row="${i}"] [role=gridcell]`).allInnerTexts();
  }
}

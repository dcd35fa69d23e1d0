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

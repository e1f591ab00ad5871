export { type MigratedDatabaseOptions, useMigratedDatabase } from './database.js';
export { type DumpOptions, dumpTables, type TableDump, truncateTables } from './dump.js';
export {
  closed,
  type EventFactoryDefaults,
  opened,
  type RandomScenario,
  type RandomScenarioOptions,
  randomConnectionScenario,
  seededRandom,
  shuffle,
} from './events.js';

#!/usr/bin/env node
// Applies the database migrations: `node dist/migrate-cli.js <database-url>`.
import { migrateCli } from './migrate.js';

process.exitCode = await migrateCli(process.argv.slice(2), process.stdout, process.stderr);

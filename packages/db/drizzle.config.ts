import { defineConfig } from 'drizzle-kit';

// Generates forward-only SQL migrations into the repository's top-level drizzle/ folder.
// `drizzle-kit generate` needs no database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../drizzle',
});

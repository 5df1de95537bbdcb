/** SQLite's and PostgreSQL's codes for a write whose key a primary key or unique index already holds. */
const UNIQUE_VIOLATIONS = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505']);

/** Whether a write failed because another row holds its key: two requests raced, and the database chose. */
export function isUniqueViolation(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNIQUE_VIOLATIONS.has(code);
}

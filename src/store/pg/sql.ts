/** SQL text written for SQLite's `?` placeholders, numbered for PostgreSQL ($1, $2, ...). */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

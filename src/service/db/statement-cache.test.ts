import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from './statement-cache.js';

interface Schema {
  items: { id: number; name: string };
}

/** A kysely over an in-memory SQLite whose prepares are counted. */
function openCounted() {
  const sqlite = new Database(':memory:');
  const prepared: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    prepared.push(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, prepared };
}

describe('SQLite statement cache', () => {
  it('compiles a query once however often it runs, with its own parameters each time', async () => {
    const { db, prepared } = openCounted();
    await sql`create table items (id integer primary key, name text)`.execute(db);
    for (let i = 1; i <= 20; i++)
      await db
        .insertInto('items')
        .values({ id: i, name: `item ${i}` })
        .execute();
    for (let i = 1; i <= 20; i++) {
      const row = await db.selectFrom('items').selectAll().where('id', '=', i).executeTakeFirstOrThrow();
      assert.equal(row.name, `item ${i}`);
    }
    assert.equal(prepared.filter((text) => text.startsWith('insert')).length, 1);
    assert.equal(prepared.filter((text) => text.startsWith('select')).length, 1);
    await db.destroy();
  });

  it('streams rows through a compiled statement, which the same query then reuses', async () => {
    const { db, prepared } = openCounted();
    await sql`create table items (id integer primary key, name text)`.execute(db);
    await db
      .insertInto('items')
      .values([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ])
      .execute();
    const query = () => db.selectFrom('items').selectAll().where('id', '>', 0).orderBy('id');
    const streamed: string[] = [];
    for await (const row of query().stream()) streamed.push(row.name);
    assert.deepEqual(streamed, ['a', 'b']);
    assert.deepEqual(
      (await query().execute()).map((row) => row.name),
      ['a', 'b'],
    );
    assert.equal(prepared.filter((text) => text.startsWith('select')).length, 1);
    await db.destroy();
  });

  it('keeps working past its bound of compiled statements', async () => {
    const { db, prepared } = openCounted();
    await sql`create table items (id integer primary key, name text)`.execute(db);
    await db.insertInto('items').values({ id: 1, name: 'a' }).execute();
    // A list of N values is a text of its own for each N: 600 texts, more than are kept.
    for (let n = 1; n <= 600; n++) {
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      assert.equal((await db.selectFrom('items').select('name').where('id', 'in', ids).execute()).length, 1);
    }
    const before = prepared.length;
    await db.selectFrom('items').select('name').where('id', 'in', [1]).execute();
    assert.equal(prepared.length, before + 1, 'the oldest text was dropped and is compiled again');
    await db
      .selectFrom('items')
      .select('name')
      .where(
        'id',
        'in',
        Array.from({ length: 600 }, (_, i) => i + 1),
      )
      .execute();
    assert.equal(prepared.length, before + 1, 'a recent text is still compiled');
    await db.destroy();
  });
});

import { StatementNames } from '../../src/store/prepared-statements';

describe('prepared statement names', () => {
  it('gives one text one name, and two texts two names', () => {
    const names = new StatementNames();
    const read = names.nameOf('select * from customers where id = ?');
    expect(read).toBeDefined();
    expect(names.nameOf('select * from customers where id = ?')).toBe(read);
    expect(names.nameOf('SELECT * FROM plans WHERE id = ?')).not.toBe(read);
  });

  it('names data statements only: DDL and transaction control run unnamed', () => {
    const names = new StatementNames();
    for (const sql of ['BEGIN;', 'COMMIT;', 'create table t (id int)', 'ALTER TABLE t ADD COLUMN x int', 'SET x = 1'])
      expect(names.nameOf(sql)).toBeUndefined();
    for (const sql of ['insert into t values (?)', ' WITH a AS (select 1) select * from a', 'update t set x = ?'])
      expect(names.nameOf(sql)).toBeDefined();
  });

  it('stops naming new texts at its limit, and keeps the names it gave', () => {
    const names = new StatementNames(2);
    const first = names.nameOf('select 1');
    names.nameOf('select 2');
    expect(names.nameOf('select 3')).toBeUndefined();
    expect(names.nameOf('select 1')).toBe(first);
  });

  it('gives a retired text a name never used before', () => {
    const names = new StatementNames();
    const old = names.nameOf('select * from t')!;
    names.nameOf('select * from u');
    names.retire('select * from t', old);
    const fresh = names.nameOf('select * from t');
    expect(fresh).toBeDefined();
    expect([old, names.nameOf('select * from u')]).not.toContain(fresh);
  });
});

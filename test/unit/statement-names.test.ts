import { PREPARED_PARAMETER_LIMIT, StatementNames } from '../../src/store/prepared-statements';

describe('prepared statement names', () => {
  it('gives one text one name, and two texts two names', () => {
    const names = new StatementNames();
    const read = names.nameOf('select * from customers where id = $1', 1);
    expect(read).toBeDefined();
    expect(names.nameOf('select * from customers where id = $1', 1)).toBe(read);
    expect(names.nameOf('SELECT * FROM plans WHERE id = $1', 1)).not.toBe(read);
  });

  it('names data statements only: DDL and transaction control run unnamed', () => {
    const names = new StatementNames();
    for (const sql of ['BEGIN;', 'COMMIT;', 'create table t (id int)', 'ALTER TABLE t ADD COLUMN x int', 'SET x = 1'])
      expect(names.nameOf(sql, 0)).toBeUndefined();
    for (const sql of ['insert into t values ($1)', ' WITH a AS (select 1) select * from a', 'update t set x = $1'])
      expect(names.nameOf(sql, 1)).toBeDefined();
  });

  it('leaves unnamed what a caller or a batch shapes: placeholder lists, many parameters, several statements', () => {
    const names = new StatementNames();
    expect(names.nameOf('select * from s where status in ($1, $2, $3)', 3)).toBeUndefined();
    expect(names.nameOf('select * from s where status in ($1)', 1)).toBeDefined();
    expect(names.nameOf('insert into t values ($1)', PREPARED_PARAMETER_LIMIT + 1)).toBeUndefined();
    expect(names.nameOf('select 1; drop table t', 0)).toBeUndefined();
    expect(names.nameOf('select 1;', 0)).toBeDefined();
  });

  it('stops naming new texts at its limit, and keeps the names it gave', () => {
    const names = new StatementNames(2);
    const first = names.nameOf('select 1', 0);
    names.nameOf('select 2', 0);
    expect(names.nameOf('select 3', 0)).toBeUndefined();
    expect(names.nameOf('select 1', 0)).toBe(first);
  });

  it('runs a retired text unnamed from then on, and names other texts as before', () => {
    const names = new StatementNames();
    const old = names.nameOf('select * from t', 0)!;
    names.retire('select * from t');
    expect(names.nameOf('select * from t', 0)).toBeUndefined();
    const other = names.nameOf('select * from u', 0);
    expect(other).toBeDefined();
    expect(other).not.toBe(old);
  });
});

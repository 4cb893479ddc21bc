import { KnexTimeoutError } from 'knex';
import { isDatabaseUnavailable } from '../../src/store/database';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('which database errors mean "unavailable, retry"', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET')],
    ['pool acquire timeout', new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['admin shutdown (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['cannot connect now (57P03)', withCode('57P03', 'the database system is starting up')],
    ['connection failure (08006)', withCode('08006')],
    ['too many connections (53300)', withCode('53300')],
    [
      'a dead connection, as knex words it',
      new Error('select * from "customers" - Connection terminated unexpectedly'),
    ],
    ['refused on every address', Object.assign(new AggregateError([withCode('ECONNREFUSED')]), { code: undefined })],
    ['wrapped in a cause', new Error('load failed', { cause: withCode('ECONNREFUSED') })],
  ])('%s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['unique violation (23505)', withCode('23505')],
    ['syntax error (42601)', withCode('42601')],
    ['query canceled (57014)', withCode('57014')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('not %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

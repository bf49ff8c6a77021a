/**
 * The expression builder every adapter writes its expressions with: placeholders for every name
 * and value, the SET/REMOVE/ADD parts of an update, and the key condition, filter and projection
 * of a Query.
 */
import {
  Expr,
  N,
  S,
  attributeNotExists,
  beginsWith,
  ifNotExists,
  isIn,
  listAppend,
} from '../../src/adapters/dynamodb/expressions';

test('an update with SET, REMOVE and ADD names every attribute and value by placeholder', () => {
  const e = new Expr();
  const at = e.value(S('2026-01-01T00:00:00Z'));

  e.set(`${e.name('firstAt')} = ${ifNotExists(e.name('firstAt'), at)}`)
    .set(`${e.name('log')} = ${listAppend(e.name('log'), e.value({ L: [S('x')] }))}`)
    .remove(e.name('p'))
    .add(e.name('attempts'), e.value(N(1)))
    .require(`${e.name('attempts')} < ${e.value(N(5))}`);

  expect(e.updateParams()).toEqual({
    UpdateExpression: 'SET #a0 = if_not_exists(#a0, :v0), #a1 = list_append(#a1, :v1) REMOVE #a2 ADD #a3 :v2',
    ConditionExpression: '(#a3 < :v3)',
    ExpressionAttributeNames: { '#a0': 'firstAt', '#a1': 'log', '#a2': 'p', '#a3': 'attempts' },
    ExpressionAttributeValues: { ':v0': S('2026-01-01T00:00:00Z'), ':v1': { L: [S('x')] }, ':v2': N(1), ':v3': N(5) },
  });
});

test('a query joins its key conditions with AND, parenthesises its filters and projects by placeholder', () => {
  const e = new Expr();

  e.key(`${e.name('ns')} = ${e.value(S('orders'))}`)
    .key(beginsWith(e.name('k'), e.value(S('a/'))))
    .filter(`${e.name('tomb')} = ${e.value({ BOOL: false })}`)
    .project(['ns', 'k', 'rev']);

  expect(e.queryParams()).toEqual({
    KeyConditionExpression: '#a0 = :v0 AND begins_with(#a1, :v1)',
    FilterExpression: '(#a2 = :v2)',
    ProjectionExpression: '#a0, #a1, #a3',
    ExpressionAttributeNames: { '#a0': 'ns', '#a1': 'k', '#a2': 'tomb', '#a3': 'rev' },
    ExpressionAttributeValues: { ':v0': S('orders'), ':v1': S('a/'), ':v2': { BOOL: false } },
  });
});

test('a condition check carries its condition, and refuses to be built without one', () => {
  const e = new Expr();
  e.require(attributeNotExists(e.name('ns')));

  expect(e.checkParams()).toEqual({
    ConditionExpression: '(attribute_not_exists(#a0))',
    ExpressionAttributeNames: { '#a0': 'ns' },
  });
  expect(() => new Expr().checkParams()).toThrow('a condition check needs at least one clause');
});

test('an expression without names or values sends neither map', () => {
  const e = new Expr();

  expect(e.params()).toEqual({});
  expect(e.queryParams()).toEqual({});
});

test('IN lists every operand of a status condition', () => {
  const e = new Expr();

  e.require(
    isIn(
      e.name('status'),
      ['DONE', 'COMPENSATION_FAILED'].map((s) => e.value(S(s))),
    ),
  );

  expect(e.params()).toEqual({
    ConditionExpression: '(#a0 IN (:v0, :v1))',
    ExpressionAttributeNames: { '#a0': 'status' },
    ExpressionAttributeValues: { ':v0': S('DONE'), ':v1': S('COMPENSATION_FAILED') },
  });
});

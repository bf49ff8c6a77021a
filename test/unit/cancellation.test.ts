/**
 * Reading a cancelled transaction's reasons: only a TransactionCanceledException has them, they
 * come by item position, and a failed condition is told apart from the other codes.
 */
import { cancellationReasons, conditionFailed, firstConditionFailure } from '../../src/adapters/dynamodb/cancellation';

const cancelled = (reasons?: unknown[]) =>
  Object.assign(new Error('Transaction cancelled'), {
    name: 'TransactionCanceledException',
    ...(reasons ? { CancellationReasons: reasons } : {}),
  });

test('the reasons of a cancelled transaction come back by item position, with the item as it stood', () => {
  const item = { head: { N: '7' } };

  const reasons = cancellationReasons(cancelled([{ Code: 'ConditionalCheckFailed', Item: item }, { Code: 'None' }]));

  expect(reasons).toEqual([{ Code: 'ConditionalCheckFailed', Item: item }, { Code: 'None' }]);
  expect(reasons![0].Item).toBe(item);
});

test('a cancelled transaction without reasons gives an empty list', () => {
  expect(cancellationReasons(cancelled())).toEqual([]);
});

test('any other error has no reasons', () => {
  expect(
    cancellationReasons(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' })),
  ).toBeUndefined();
  expect(cancellationReasons(new Error('plain'))).toBeUndefined();
  expect(cancellationReasons(undefined)).toBeUndefined();
});

test('only ConditionalCheckFailed counts as a failed condition', () => {
  expect(conditionFailed({ Code: 'ConditionalCheckFailed' })).toBe(true);
  expect(conditionFailed({ Code: 'TransactionConflict' })).toBe(false);
  expect(conditionFailed({ Code: 'None' })).toBe(false);
  expect(conditionFailed(undefined)).toBe(false);
});

test('the first failed condition is found from the given position on', () => {
  const reasons = [
    { Code: 'ConditionalCheckFailed' },
    { Code: 'None' },
    { Code: 'TransactionConflict' },
    { Code: 'ConditionalCheckFailed' },
  ];

  expect(firstConditionFailure(reasons)).toBe(0);
  expect(firstConditionFailure(reasons, 1)).toBe(3);
  expect(firstConditionFailure(reasons.slice(1, 3))).toBe(-1);
});

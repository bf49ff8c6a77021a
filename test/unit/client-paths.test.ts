import { recordPath } from '../../src/client/client';

test('record paths encode each key segment, and send a key with dot segments as one segment', () => {
  expect(recordPath('shop', 'cart/42')).toBe('/v1/ns/shop/keys/cart/42');
  expect(recordPath('shop', 'a b/ü?')).toBe('/v1/ns/shop/keys/a%20b/%C3%BC%3F');
  expect(recordPath('shop', 'a/../b')).toBe('/v1/ns/shop/keys/a%2F..%2Fb');
  expect(recordPath('shop', './x')).toBe('/v1/ns/shop/keys/.%2Fx');
  // What fetch would send keeps the key whole.
  expect(new URL(`http://h${recordPath('shop', 'a/../b')}`).pathname).toBe('/v1/ns/shop/keys/a%2F..%2Fb');
});

/** Kafka listener syntax: NAME://host:port lists, their errors, and formatting back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListenerError, formatListener, parseListener, parseListeners } from '../../src/broker/listeners.js';

test('parses the default PLAINTEXT and SSL pair', () => {
  assert.deepEqual(parseListeners('PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093'), [
    { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9092 },
    { name: 'SSL', securityProtocol: 'SSL', host: '127.0.0.1', port: 9093 },
  ]);
});

test('names are case-insensitive, whitespace around entries is ignored', () => {
  assert.deepEqual(parseListeners(' ssl://localhost:9093 , plaintext://example.com:1 '), [
    { name: 'SSL', securityProtocol: 'SSL', host: 'localhost', port: 9093 },
    { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: 'example.com', port: 1 },
  ]);
});

test('an empty host means every interface; IPv6 hosts are bracketed', () => {
  assert.equal(parseListener('PLAINTEXT://:9092').host, '0.0.0.0');
  assert.equal(parseListener('SSL://[::1]:9093').host, '::1');
  assert.equal(parseListener('SSL://[2001:db8::7]:65535').port, 65535);
});

test('port 0 (a free port) may repeat; other ports may not', () => {
  assert.equal(parseListeners('PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0').length, 2);
  assert.throws(() => parseListeners('PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.2:9092'), {
    name: 'ListenerError',
    message: 'listeners PLAINTEXT and SSL both use port 9092',
  });
});

test('duplicate names are errors', () => {
  assert.throws(() => parseListeners('PLAINTEXT://:1,plaintext://:2'), { message: 'listener name PLAINTEXT is used more than once' });
});

test('each malformed listener gets a clear error', () => {
  const cases: [string, RegExp][] = [
    ['', /no listeners given/],
    [' , ', /no listeners given/],
    ['PLAINTEXT://:1,,SSL://:2', /empty entry/],
    ['127.0.0.1:9092', /not of the form NAME:\/\/host:port/],
    ['PLAINTEXT://127.0.0.1', /not of the form NAME:\/\/host:port/],
    ['://127.0.0.1:9092', /has no name/],
    ['PLAINTEXT://127.0.0.1:65536', /port 65536 is larger than 65535/],
    ['PLAINTEXT://127.0.0.1:-1', /port "-1" is not a number/],
    ['PLAINTEXT://127.0.0.1:abc', /port "abc" is not a number/],
    ['PLAINTEXT://127.0.0.1:', /port "" is not a number/],
    ['FOO://127.0.0.1:9092', /unknown listener name FOO/],
    ['SASL_SSL://127.0.0.1:9092', /SASL_SSL is not supported/],
    ['SSL://::1:9093', /IPv6 host must be in brackets/],
    ['SSL://[not-ipv6]:9093', /not a bracketed IPv6 address/],
    ['SSL://bad host:9093', /is not a host name or IP address/],
    ['SSL://-bad:9093', /is not a host name or IP address/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseListeners(text), (error: unknown) => error instanceof ListenerError && message.test(error.message), text);
  }
});

test('formatListener is the inverse of parseListener', () => {
  for (const text of ['PLAINTEXT://127.0.0.1:9092', 'SSL://[::1]:9093', 'SSL://localhost:0']) {
    assert.equal(formatListener(parseListener(text)), text);
  }
});

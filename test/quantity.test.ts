/**
 * Kubernetes quantities: every form the API server accepts parses exactly and renders without
 * rounding; every form it refuses, and every CPU or memory value a container cannot have, is
 * reported with the field and the value.
 *
 * The parse and rendering tables come from upstream's own tests,
 * k8s.io/apimachinery/pkg/api/resource/quantity_test.go: `TestQuantityParse` (its valid table and
 * its `invalid` list), `TestParseQuantityString`, `TestQuantityString` (canonical form and
 * alternates) and `TestQuantityParseEmit`. Expected canonical strings are upstream's `String()`,
 * except for values finer than 1n, which upstream rounds up and this module keeps exact.
 */
import { Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  checkQuantity, checkQuantityNotAbove, compareQuantities, formatQuantity, hardenPodTemplate, Microservice, MicroserviceProps, parseQuantity,
  Quantity, renderResourceQuantity,
} from '../constructs';
import { ORDERS } from './orders-props';

/** Parses `text`, failing the test with the reason when it is not a quantity. */
function q(text: string): Quantity {
  const { quantity, reason } = Quantity.parse(text);
  if (quantity === undefined) throw new Error(`${text}: ${reason}`);
  return quantity;
}

// TestQuantityParse's valid table, with the canonical form upstream's String() gives each.
const UPSTREAM_VALID: ReadonlyArray<readonly [string, string]> = [
  ['0', '0'], ['0n', '0'], ['0u', '0'], ['0m', '0'], ['0Ki', '0'], ['0k', '0'], ['0Mi', '0'], ['0M', '0'], ['0Gi', '0'],
  ['0G', '0'], ['0Ti', '0'], ['0T', '0'],
  // quantity-less numbers
  ['1', '1'],
  // binary suffixes
  ['1Ki', '1Ki'], ['8Ki', '8Ki'], ['7Mi', '7Mi'], ['6Gi', '6Gi'], ['5Ti', '5Ti'], ['4Pi', '4Pi'], ['3Ei', '3Ei'], ['10Ti', '10Ti'],
  ['100Ti', '100Ti'],
  // decimal suffixes
  ['5n', '5n'], ['4u', '4u'], ['3m', '3m'], ['9', '9'], ['8k', '8k'], ['50k', '50k'], ['7M', '7M'], ['6G', '6G'], ['5T', '5T'],
  ['40T', '40T'], ['300T', '300T'], ['2P', '2P'], ['1E', '1E'],
  // decimal exponents
  ['1E-3', '1e-3'], ['1e3', '1e3'], ['1E6', '1e6'], ['1e9', '1e9'], ['1E12', '1e12'], ['1e15', '1e15'], ['1E18', '1e18'],
  // nonstandard but still parsable
  ['1e14', '100e12'], ['1e13', '10e12'], ['100.035k', '100035'],
  // things that look like floating point
  ['0.001', '1m'], ['0.0005k', '500m'], ['0.005', '5m'], ['0.05', '50m'], ['0.5', '500m'], ['0.00050k', '500m'], ['0.00500', '5m'],
  ['0.05000', '50m'], ['0.50000', '500m'], ['0.5e0', '500e-3'], ['0.5e-1', '50e-3'], ['0.5e-2', '5e-3'], ['10.035M', '10035k'],
  ['1.2e3', '1200'], ['1.3E+6', '1300e3'], ['1.40e9', '1400e6'], ['1.53E12', '1530e9'], ['1.6e15', '1600e12'], ['1.7E18', '1700e15'],
  ['9.01', '9010m'], ['8.1k', '8100'], ['7.123456M', '7123456'], ['6.987654321G', '6987654321'], ['5.444T', '5444G'],
  ['40.1T', '40100G'], ['300.2T', '300200G'], ['2.5P', '2500T'], ['1.01E', '1010P'],
  // upstream caps these binary values at 2^63-1; exact here (and refused by checkQuantity)
  ['9Ei', '9Ei'], ['9223372036854775807Ki', '9223372036854775807Ki'], ['12E', '12E'],
  // fractional binary values
  ['100.035Ki', '102435840m'], ['0.5Mi', '512Ki'], ['0.05Gi', '53687091200m'], ['0.025Ti', '27487790694400m'],
  // "things written by trolls"
  ['.001', '1m'], ['.0001k', '100m'], ['1.', '1'], ['1.G', '1G'],
];

// Upstream rounds these up to the next nanounit ("3.001n" is 4n there); the value is kept exact here.
const FINER_THAN_NANO: ReadonlyArray<readonly [string, string, string]> = [
  ['3.001n', '3001e-12', '4n'], ['1.1E-9', '1100e-12', '2n'], ['0.0000000001', '100e-12', '1n'], ['0.0000000005', '500e-12', '1n'],
  ['0.00000000050', '500e-12', '1n'], ['0.5e-9', '500e-12', '1n'], ['0.9n', '900e-12', '1n'], ['0.00000012345', '123450e-12', '124n'],
  ['0.00000012354', '123540e-12', '124n'], ['0.000000000001Ki', '1024e-12', '2n'],
];

// TestQuantityString: [canonical, alternate spelling of the same value] and TestQuantityParseEmit.
const UPSTREAM_CANONICAL: ReadonlyArray<readonly [string, string]> = [
  ['1024Mi', '1Gi'], ['307200Ki', '300Mi'], ['1025024Mi', '1001Gi'], ['1024Gi', '1Ti'], ['5000m', '5'], ['0.5', '500m'],
  ['1000M', '1G'], ['0.001T', '1G'], ['1000u', '1m'], ['1.08', '1080m'], ['1080000000n', '1080m'], ['.001e12', '1e9'],
  ['0.001e0', '1e-3'], ['1000e-12', '1e-9'], ['00', '0'], ['6Ki', '6Ki'], ['1025', '1025'], ['80m', '80m'], ['300M', '300M'],
  ['1234567M', '1234567M'], ['3k', '3k'], ['80e-3', '80e-3'], ['300e6', '300e6'], ['3e3', '3e3'], ['1n', '1n'], ['1080n', '1080n'],
  ['80u', '80u'], ['1080u', '1080u'],
  ['1Ki', '1Ki'], ['1Mi', '1Mi'], ['1Gi', '1Gi'], ['.001Ki', '1024m'], ['.000001Ki', '1024u'], ['.000000001Ki', '1024n'],
];

// TestQuantityParse's `invalid` list and empty string, then forms people write by mistake.
const UPSTREAM_INVALID: ReadonlyArray<readonly [string, string]> = [
  ['', 'empty'],
  ['1.1.M', 'unexpected "." at position 4'],
  ['1+1.0M', 'unexpected "." at position 4'],
  ['0.1mi', 'unknown suffix "mi" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['0.1am', 'unexpected "a" at position 4'],
  ['aoeu', 'unexpected "a" at position 1'],
  ['.5i', 'unknown suffix "i" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['1i', 'unknown suffix "i" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['-3.01i', 'unknown suffix "i" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['-3.01e-', 'unknown suffix "e-" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  [' 1', 'unexpected " " at position 1'],
  ['1 ', 'unexpected " " at position 2'],
];
const MISTAKES: ReadonlyArray<readonly [string, string]> = [
  ['1.5.3', 'unexpected "." at position 4'],
  ['1Mb', 'unexpected "b" at position 3'],
  ['1 Gi', 'unexpected " " at position 2'],
  ['1e', 'unknown suffix "e" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['1ki', 'unknown suffix "ki" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['1KiB', 'unexpected "B" at position 4'],
  ['1GB', 'unexpected "B" at position 3'],
  ['512MB', 'unexpected "B" at position 5'],
  ['1K', 'unknown suffix "K" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['250 millicores', 'unexpected " " at position 4'],
  ['1e3.5', 'unexpected "." at position 4'],
  ['1e+', 'unknown suffix "e+" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['--1', 'unknown suffix "-1" (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)'],
  ['0x10', 'unexpected "x" at position 2'],
  ['1,5', 'unexpected "," at position 2'],
  ['1e2147483648', 'exponent 2147483648 is beyond the 32 bits Kubernetes keeps'],
  ['1e-99999999999999999999', 'exponent -99999999999999999999 is beyond the 32 bits Kubernetes keeps'],
];

describe('Quantity.parse', () => {
  test.each(UPSTREAM_VALID)('GIVEN upstream\'s valid %j WHEN parsed THEN its canonical form is %j', (text, canonical) => {
    // WHEN
    const quantity = q(text);
    // THEN
    expect(formatQuantity(quantity)).toBe(canonical);
    expect(quantity.text).toBe(text);
    // the canonical form is itself a quantity of exactly the same value
    expect(q(canonical).compare(quantity)).toBe(0);
  });

  test.each(UPSTREAM_VALID.filter(([text]) => !/^0[^.]*$/.test(text)))(
    'GIVEN %j with an explicit sign WHEN parsed THEN "-" negates it and "+" changes nothing', (text, canonical) => {
      // WHEN
      const negative = q(`-${text}`);
      const positive = q(`+${text}`);
      // THEN
      expect(negative.sign).toBe(-1);
      expect(formatQuantity(negative)).toBe(`-${canonical}`);
      expect(positive.compare(q(text))).toBe(0);
      expect(formatQuantity(positive)).toBe(canonical);
    });

  test.each(FINER_THAN_NANO)('GIVEN %j, finer than 1n WHEN parsed THEN it stays exact as %j (upstream rounds it up to %s)', (text, exact, upstream) => {
    // WHEN
    const quantity = q(text);
    // THEN
    expect(formatQuantity(quantity)).toBe(exact);
    expect(quantity.compare(q(upstream))).toBe(-1);
  });

  test.each(UPSTREAM_CANONICAL)('GIVEN %j WHEN rendered THEN it is upstream\'s canonical %j', (text, canonical) => {
    expect(formatQuantity(q(text))).toBe(canonical);
    expect(formatQuantity(q(`-${text}`))).toBe(canonical === '0' ? '0' : `-${canonical}`);
  });

  test.each([
    // TestParseQuantityString: upstream's scanner reads a lone point, with or without sign, as zero
    ['.'], ['-.'], ['+'], ['-'], ['Mi'], ['m'], ['e5'], ['000'], ['-0.0e7'],
  ])('GIVEN %j, which upstream reads as zero WHEN parsed THEN it is 0', (text) => {
    expect(q(text).sign).toBe(0);
    expect(formatQuantity(q(text))).toBe('0');
  });

  test.each([...UPSTREAM_INVALID, ...MISTAKES])('GIVEN %j WHEN parsed THEN it is refused because: %s', (text, reason) => {
    expect(Quantity.parse(text)).toEqual({ reason });
  });

  test.each([
    [512, 'not a string but number'], [0.5, 'not a string but number'], [null, 'not a string but null'],
    [undefined, 'not a string but undefined'], [{ value: '1' }, 'not a string but object'], [['1'], 'not a string but object'],
    [true, 'not a string but boolean'], [1n, 'not a string but bigint'],
  ])('GIVEN %p, not a string WHEN parsed THEN it is refused because: %s', (value, reason) => {
    expect(Quantity.parse(value)).toEqual({ reason });
  });

  test('GIVEN an exponent of two billion WHEN compared and rendered THEN nothing that large is ever built', () => {
    // GIVEN
    const huge = q('1e2147483647');
    const tiny = q('1e-2147483647');
    // WHEN / THEN
    expect(huge.compare(q('8Ei'))).toBe(1);
    expect(tiny.compare(q('1n'))).toBe(-1);
    expect(tiny.compare(q('0'))).toBe(1);
    expect(formatQuantity(huge)).toBe('10e2147483646');
    expect(formatQuantity(tiny)).toBe('100e-2147483649');
    expect(checkQuantity('1e2147483647', 'memory')).toBe(
      'must be a memory quantity of at most 9223372036854775807 (2^63-1 bytes, the most Kubernetes counts)');
  });
});

describe('compareQuantities', () => {
  test.each([
    ['1e3', '1k', 0], ['1k', '1000', 0], ['1000m', '1', 0], ['1Ki', '1024', 0], ['1G', '1e9', 0], ['1.5Gi', '1536Mi', 0],
    ['0.5', '500m', 0], ['.5', '0.50000', 0], ['5.', '5', 0], ['+1', '1', 0], ['1E3', '1e3', 0], ['0', '-0', 0], ['0Mi', '0m', 0],
    // TestQuantityCmp
    ['100m', '50m', 1], ['50m', '100m', -1], ['10000T', '100Gi', 1],
    ['1G', '1Gi', -1], ['1Mi', '1M', 1], ['999999999n', '1', -1], ['-1', '-2', 1], ['-1Ki', '1m', -1],
    // one apart at 2^53, where floats compare them equal
    ['9007199254740993', '9007199254740992', 1], ['9007199254740993m', '9007199254740.992', 1],
  ] as const)('GIVEN %j and %j WHEN compared THEN the result is %d', (a, b, expected) => {
    expect(compareQuantities(q(a), q(b))).toBe(expected);
    expect(compareQuantities(q(b), q(a))).toBe(-expected || 0);
  });
});

describe('checkQuantity', () => {
  const CPU = 'must be a CPU quantity such as "250m" or "1"';
  const MEMORY = 'must be a memory quantity such as "256Mi" or "1Gi"';

  test.each([
    '250m', '1', '0.5', '.5', '5.', '+1', '1e3', '1E3', '100m', '1k', '129e6', '1G', '2.5', '0.001', '1m', '1500000u', '2000000n',
    '9223372036854775807m',
  ])('GIVEN the CPU quantity %j WHEN checked THEN it is accepted', (value) => {
    expect(checkQuantity(value, 'cpu')).toBeUndefined();
  });

  test.each([
    '1G', '300000Ki', '1e3', '0.5Gi', '1.5Ki', '123Mi', '1Ei', '129e6', '1', '256Mi', '1Gi', '+512Mi', '5.', '1000m',
    '9223372036854775807', '8191Pi',
  ])('GIVEN the memory quantity %j WHEN checked THEN it is accepted', (value) => {
    expect(checkQuantity(value, 'memory')).toBeUndefined();
  });

  test.each([
    ['1.5.3', CPU], ['1 Gi', CPU], ['', CPU], ['1e', CPU], ['250 millicores', CPU], ['1ki', CPU],
    ['0', 'must be a CPU quantity greater than 0 such as "250m" or "1"'],
    ['0m', 'must be a CPU quantity greater than 0 such as "250m" or "1"'],
    ['-1', 'must be a CPU quantity greater than 0 such as "250m" or "1"'],
    ['-250m', 'must be a CPU quantity greater than 0 such as "250m" or "1"'],
    ['.', 'must be a CPU quantity greater than 0 such as "250m" or "1"'],
    ['100u', 'must be a CPU quantity in whole millicores such as "250m" or "0.25" (1m is the finest CPU unit Kubernetes allocates)'],
    ['0.0005', 'must be a CPU quantity in whole millicores such as "250m" or "0.25" (1m is the finest CPU unit Kubernetes allocates)'],
    ['1.0001', 'must be a CPU quantity in whole millicores such as "250m" or "0.25" (1m is the finest CPU unit Kubernetes allocates)'],
    ['9223372036854775808m', 'must be a CPU quantity of at most 9223372036854775807m (2^63-1 millicores, the most Kubernetes counts)'],
    ['1Ei', 'must be a CPU quantity of at most 9223372036854775807m (2^63-1 millicores, the most Kubernetes counts)'],
  ])('GIVEN the CPU value %j WHEN checked THEN the rule is: %s', (value, rule) => {
    expect(checkQuantity(value, 'cpu')).toBe(rule);
  });

  test.each([
    ['1Mb', MEMORY], ['1KiB', MEMORY], ['512MB', MEMORY], ['1 Gi', MEMORY], ['', MEMORY],
    ['0', 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi"'],
    ['0Mi', 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi"'],
    ['-1Gi', 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi"'],
    ['0.5', 'must be a memory quantity in whole bytes such as "256Mi" or "1G"'],
    ['1.0001Ki', 'must be a memory quantity in whole bytes such as "256Mi" or "1G"'],
    ['512m', 'must be a memory quantity in whole bytes such as "256Mi" or "1G" ("m" means thousandths; mebibytes are "Mi")'],
    ['8Ei', 'must be a memory quantity of at most 9223372036854775807 (2^63-1 bytes, the most Kubernetes counts)'],
    ['9223372036854775808', 'must be a memory quantity of at most 9223372036854775807 (2^63-1 bytes, the most Kubernetes counts)'],
  ])('GIVEN the memory value %j WHEN checked THEN the rule is: %s', (value, rule) => {
    expect(checkQuantity(value, 'memory')).toBe(rule);
  });

  test.each([[512], [0.5], [null], [undefined], [{ cpu: '1' }]])('GIVEN %p instead of a string WHEN checked THEN it is refused', (value) => {
    expect(checkQuantity(value, 'cpu')).toBe(CPU);
    expect(checkQuantity(value, 'memory')).toBe(MEMORY);
  });

  test('GIVEN a request and a limit WHEN compared THEN only a request above its limit breaks the rule, exactly', () => {
    expect(checkQuantityNotAbove('1e3', '1k', 'resources.limits.cpu')).toBeUndefined();
    expect(checkQuantityNotAbove('1G', '1Gi', 'resources.limits.memory')).toBeUndefined();
    expect(checkQuantityNotAbove('1Gi', '1G', 'resources.limits.memory')).toBe('must not exceed resources.limits.memory (1G)');
    expect(checkQuantityNotAbove('9007199254740993', '9007199254740992', 'resources.limits.memory'))
      .toBe('must not exceed resources.limits.memory (9007199254740992)');
    // a value that is not a quantity is its own check's finding, not this one's
    expect(checkQuantityNotAbove('1 Gi', '1G', 'resources.limits.memory')).toBeUndefined();
    expect(checkQuantityNotAbove('1G', null, 'resources.limits.memory')).toBeUndefined();
  });

  test('GIVEN quantities WHEN read with the float helper THEN it gives base units, and undefined for non-quantities', () => {
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1Mb')).toBeUndefined();
    expect(parseQuantity(1)).toBeUndefined();
  });
});

describe('renderResourceQuantity', () => {
  test.each([
    // today's values keep today's rendering: CPU in millicores, memory in mebibytes
    ['250m', 'cpu', '250m'], ['1000m', 'cpu', '1000m'], ['1', 'cpu', '1000m'], ['500m', 'cpu', '500m'], ['100m', 'cpu', '100m'],
    ['512Mi', 'memory', '512Mi'], ['1Gi', 'memory', '1024Mi'], ['128Mi', 'memory', '128Mi'], ['256Mi', 'memory', '256Mi'],
    // every other form, exactly
    ['0.5', 'cpu', '500m'], ['.5', 'cpu', '500m'], ['5.', 'cpu', '5000m'], ['+1', 'cpu', '1000m'], ['1e3', 'cpu', '1000000m'],
    ['1E3', 'cpu', '1000000m'], ['1G', 'memory', '1G'], ['300000Ki', 'memory', '300000Ki'], ['1e3', 'memory', '1e3'],
    ['129e6', 'memory', '129e6'], ['123Mi', 'memory', '123Mi'], ['1Ei', 'memory', '1099511627776Mi'], ['1.5Gi', 'memory', '1536Mi'],
    ['0.5Mi', 'memory', '512Ki'], ['1500M', 'memory', '1500M'], ['+1', 'memory', '1'], ['5.', 'memory', '5'],
    // not whole millicores or bytes (refused by checkQuantity): still never rounded
    ['100u', 'cpu', '100u'], ['0.5', 'memory', '500m'],
  ] as const)('GIVEN %j WHEN rendered as %s THEN it is written %j, the same value', (value, kind, rendered) => {
    // WHEN
    const result = renderResourceQuantity(value, kind);
    // THEN
    expect(result).toBe(rendered);
    expect(q(result).compare(q(value))).toBe(0);
  });

  test('GIVEN a value that is not a quantity WHEN rendered THEN it throws with the reason', () => {
    expect(() => renderResourceQuantity('1Mb', 'memory'))
      .toThrow('cannot render "1Mb" as a memory quantity: unexpected "b" at position 3');
  });
});

describe('Microservice resources', () => {
  const BASE: MicroserviceProps = ORDERS;
  /** Synthesizes a Microservice with `props` over BASE; returns its Deployment's pod spec. */
  function podSpec(props: Partial<MicroserviceProps>) {
    const chart = Testing.chart();
    new Microservice(chart, 'Orders', { ...BASE, ...props });
    return Testing.synth(chart).find((o) => o.kind === 'Deployment').spec.template.spec;
  }
  function resources(requests: { cpu: string; memory: string }, limits: { cpu: string; memory: string }) {
    return podSpec({ resources: { requests, limits } }).containers[0].resources;
  }

  test('GIVEN a memory request of 1G (not a whole number of MiB) WHEN synthesized THEN memory is 1e9 bytes, written exactly', () => {
    // GIVEN / WHEN
    const r = resources({ cpu: '0.5', memory: '1G' }, { cpu: '1', memory: '1.5G' });
    // THEN
    expect(r).toEqual({ limits: { cpu: '1000m', memory: '1500M' }, requests: { cpu: '500m', memory: '1G' } });
    expect(q(r.requests.memory).compare(q('1000000000'))).toBe(0);
  });

  test.each([
    ['1G', '1G'], ['300000Ki', '300000Ki'], ['1e3', '1e3'], ['129e6', '129e6'], ['123Mi', '123Mi'], ['1E3', '1e3'], ['+1', '1'],
    ['5.', '5'], ['1Ei', '1099511627776Mi'], ['1Gi', '1024Mi'],
  ])('GIVEN memory %j WHEN synthesized THEN the manifest says %j', (memory, rendered) => {
    expect(resources({ cpu: '100m', memory }, { cpu: '100m', memory }).limits.memory).toBe(rendered);
  });

  test.each([
    ['0.5', '500m'], ['.5', '500m'], ['5.', '5000m'], ['+1', '1000m'], ['1e3', '1000000m'], ['1E3', '1000000m'], ['100m', '100m'], ['1', '1000m'],
  ])('GIVEN CPU %j WHEN synthesized THEN the manifest says %j', (cpu, rendered) => {
    expect(resources({ cpu, memory: '1Gi' }, { cpu, memory: '1Gi' }).requests.cpu).toBe(rendered);
  });

  test('GIVEN a request equal to its limit in another notation WHEN constructed THEN it is accepted (1e9 = 1G, 1k = 1e3)', () => {
    expect(resources({ cpu: '1k', memory: '1e9' }, { cpu: '1e3', memory: '1G' }))
      .toEqual({ limits: { cpu: '1000000m', memory: '1G' }, requests: { cpu: '1000000m', memory: '1e9' } });
  });

  const R = 'Microservice orders: resources.requests';
  const L = 'Microservice orders: resources.limits';
  test.each([
    [{ cpu: '1.5.3' }, `${R}.cpu must be a CPU quantity such as "250m" or "1", got "1.5.3"`],
    [{ memory: '1Mb' }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got "1Mb"`],
    [{ memory: '1 Gi' }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got "1 Gi"`],
    [{ cpu: '-1' }, `${R}.cpu must be a CPU quantity greater than 0 such as "250m" or "1", got "-1"`],
    [{ cpu: '0' }, `${R}.cpu must be a CPU quantity greater than 0 such as "250m" or "1", got "0"`],
    [{ cpu: '0m' }, `${R}.cpu must be a CPU quantity greater than 0 such as "250m" or "1", got "0m"`],
    [{ memory: '0' }, `${R}.memory must be a memory quantity greater than 0 such as "256Mi" or "1Gi", got "0"`],
    [{ memory: '' }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got ""`],
    [{ cpu: '1e' }, `${R}.cpu must be a CPU quantity such as "250m" or "1", got "1e"`],
    [{ memory: '1ki' }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got "1ki"`],
    [{ memory: '1KiB' }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got "1KiB"`],
    [{ cpu: 0.5 }, `${R}.cpu must be a CPU quantity such as "250m" or "1", got 0.5`],
    [{ memory: 512 }, `${R}.memory must be a memory quantity such as "256Mi" or "1Gi", got 512`],
    [{ cpu: null }, `${R}.cpu must be a CPU quantity such as "250m" or "1", got null`],
    [{ memory: '100m' }, `${R}.memory must be a memory quantity in whole bytes such as "256Mi" or "1G" ("m" means thousandths; mebibytes are "Mi"), got "100m"`],
    [{ cpu: '50u' }, `${R}.cpu must be a CPU quantity in whole millicores such as "250m" or "0.25" (1m is the finest CPU unit Kubernetes allocates), got "50u"`],
    [{ memory: '257Mi' }, `${R}.memory must not exceed resources.limits.memory (256Mi), got "257Mi"`],
    [{ memory: '268435457' }, `${R}.memory must not exceed resources.limits.memory (256Mi), got "268435457"`],
  ])('GIVEN requests %j WHEN constructed THEN it throws %s', (request, message) => {
    // GIVEN
    const requests = { ...BASE.resources.requests, ...request } as unknown as MicroserviceProps['resources']['requests'];
    // WHEN / THEN
    expect(() => new Microservice(Testing.chart(), 'Orders', { ...BASE, resources: { ...BASE.resources, requests } })).toThrow(message);
  });

  test.each([
    [{ cpu: '-200m' }, `${L}.cpu must be a CPU quantity greater than 0 such as "250m" or "1", got "-200m"`],
    [{ memory: '0Gi' }, `${L}.memory must be a memory quantity greater than 0 such as "256Mi" or "1Gi", got "0Gi"`],
    [{ memory: '9Ei' }, `${L}.memory must be a memory quantity of at most 9223372036854775807 (2^63-1 bytes, the most Kubernetes counts), got "9Ei"`],
  ])('GIVEN limits %j WHEN constructed THEN it throws %s', (limit, message) => {
    const limits = { ...BASE.resources.limits, ...limit };
    expect(() => new Microservice(Testing.chart(), 'Orders', { ...BASE, resources: { ...BASE.resources, limits } })).toThrow(message);
  });

  test('GIVEN requests one byte above limits that floats cannot tell apart WHEN constructed THEN it throws', () => {
    expect(() => resources({ cpu: '100m', memory: '9007199254740993' }, { cpu: '100m', memory: '9007199254740992' }))
      .toThrow(`${R}.memory must not exceed resources.limits.memory (9007199254740992), got "9007199254740993"`);
  });

  test.each([
    [undefined, '256Mi'], [Size.mebibytes(64), '64Mi'], [Size.gibibytes(1), '1024Mi'], [Size.kibibytes(1536), '1536Ki'],
    ['1G', '1G'], ['300000Ki', '300000Ki'], ['512Mi', '512Mi'],
  ])('GIVEN writableSizeLimit %p WHEN synthesized THEN every emptyDir is limited to %j', (writableSizeLimit, rendered) => {
    // WHEN
    const spec = podSpec({ writableSizeLimit, writablePaths: ['/tmp', '/var/cache'] });
    // THEN
    expect(spec.volumes).toEqual([
      { emptyDir: { sizeLimit: rendered }, name: 'tmp' },
      { emptyDir: { sizeLimit: rendered }, name: 'var-cache' },
    ]);
  });

  test.each([
    [Size.kibibytes(0), 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi", got "0Ki"'],
    ['0', 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi", got "0"'],
    ['-1Gi', 'must be a memory quantity greater than 0 such as "256Mi" or "1Gi", got "-1Gi"'],
    ['1GB', 'must be a memory quantity such as "256Mi" or "1Gi", got "1GB"'],
    [Size.kibibytes(0.0001), 'must be a memory quantity in whole bytes such as "256Mi" or "1G", got "0.0001Ki"'],
  ])('GIVEN writableSizeLimit %p WHEN constructed THEN it throws', (writableSizeLimit, rule) => {
    expect(() => new Microservice(Testing.chart(), 'Orders', { ...BASE, writableSizeLimit }))
      .toThrow(`Microservice orders: writableSizeLimit ${rule}`);
  });
});

describe('hardenPodTemplate: exact quantities', () => {
  function deployment() {
    const chart = Testing.chart();
    const d = new kplus.Deployment(chart, 'D', { securityContext: { ensureNonRoot: false } });
    const container = d.addContainer({ name: 'app', image: 'app:1', resources: {}, securityContext: { ensureNonRoot: false } });
    return { chart, d, container };
  }

  test('GIVEN a quantity that is not one WHEN hardening THEN it throws with the reason', () => {
    const { d } = deployment();
    expect(() => hardenPodTemplate(d, { resources: { requests: { cpu: '1', memory: '1 Gi' }, limits: { cpu: '1', memory: '1Gi' } } }))
      .toThrow('"1 Gi" is not a Kubernetes quantity: unexpected " " at position 2');
  });

  test('GIVEN a size limit for a volume the pod lacks WHEN hardening THEN it throws naming the volumes', () => {
    const { d, container } = deployment();
    container.mount('/tmp', kplus.Volume.fromEmptyDir(d, 'Tmp', 'tmp'));
    expect(() => hardenPodTemplate(d, { emptyDirSizeLimits: { cache: '1G' } }))
      .toThrow('emptyDirSizeLimits: the pod has no volume "cache" (volumes: tmp)');
  });

  test('GIVEN a volume mounted after hardening that moves the patched one WHEN synthesized THEN it fails instead of patching the wrong volume', () => {
    // GIVEN a pod-level volume, patched at position 0
    const { chart, d, container } = deployment();
    d.addVolume(kplus.Volume.fromEmptyDir(d, 'Data', 'data'));
    hardenPodTemplate(d, { emptyDirSizeLimits: { data: '1G' } });
    // WHEN a mounted volume is added, which cdk8s-plus writes before pod-level ones
    container.mount('/tmp', kplus.Volume.fromEmptyDir(d, 'Tmp', 'tmp'));
    // THEN
    expect(() => Testing.synth(chart)).toThrow('Test operation failed');
  });
});

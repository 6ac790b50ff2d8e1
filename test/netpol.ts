/**
 * The NetworkPolicy evaluator the traffic-matrix tests use, now in validate/netpol.ts so that the
 * review report (and the release command that prints its lines) can use it outside the tests.
 */
export * from '../validate/netpol';

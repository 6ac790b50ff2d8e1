/**
 * The review's route lines across Ingresses and HTTPRoutes: an environment moving from its Ingress
 * to Gateway API HTTPRoutes keeps every route (a move, not "stops traffic"), and an HTTPRoute's own
 * changes (a weight, a removed route) read in plain words.
 */
import { Manifest, plainLine, reviewEnvironment, ReviewLine } from '../review';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { find, Obj, synthObjects } from './helpers';

const show = (l: ReviewLine) => `[${l.labels.join(',')}] ${plainLine(l)}`;
const routeLines = (before: readonly Obj[], after: readonly Obj[]) => reviewEnvironment('production', before as unknown as Manifest[], after as unknown as Manifest[])
  .lines.map(show).filter((l) => / route |Ingress |HTTPRoute |public host/.test(l));

const withIngress = synthObjects([production]).get('production')!;
const gatewayProduction = { ...production, routing: staging.routing };
delete gatewayProduction.tls;
const withRoutes = synthObjects([gatewayProduction]).get('production')!;

test('moving production from its Ingress to HTTPRoutes moves each route, and the Ingress\'s removal stops nothing', () => {
  expect(routeLines(withIngress, withRoutes)).toEqual([
    '[traffic] production/soundcore-kcp: route soundcore-kcp.com/ -> frontend:80 moved to HTTPRoute frontend',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/analytics -> analytics-service:8004 moved to HTTPRoute analytics-service',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/auth -> auth-service:8005 moved to HTTPRoute auth-service',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/content -> content-service:8002 moved to HTTPRoute content-service',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/knowledge -> knowledge-service:8001 moved to HTTPRoute knowledge-service',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/stats -> analytics-service:8004 moved to HTTPRoute analytics-service',
    '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/support -> support-service:8003 moved to HTTPRoute support-service',
    '[traffic] production: Ingress soundcore-kcp removed (its routes are served by the objects above)',
    '[change] production: HTTPRoute frontend added',
    '[change] production: HTTPRoute knowledge-service added',
    '[change] production: HTTPRoute content-service added',
    '[change] production: HTTPRoute support-service added',
    '[change] production: HTTPRoute analytics-service added',
    '[change] production: HTTPRoute auth-service added',
  ]);
});

test('an HTTPRoute\'s weights and removed paths read in plain words; a path nothing serves any more stops traffic', () => {
  const after = structuredClone(withRoutes) as Obj[];
  const analytics = find(after, 'HTTPRoute', 'analytics-service');
  analytics.spec.rules[0].backendRefs = [{ group: '', kind: 'Service', name: 'analytics-service', port: 8004, weight: 90 },
    { group: '', kind: 'Service', name: 'analytics-service-preview', port: 8004, weight: 10 }];
  analytics.spec.rules[0].matches = analytics.spec.rules[0].matches.filter((m: { path: { value: string } }) => m.path.value !== '/api/v1/stats');
  expect(routeLines(withRoutes, after)).toEqual([
    '[stops-traffic] production/analytics-service: route api.soundcore-kcp.com/api/v1/stats -> analytics-service:8004 removed',
    '[traffic] production/analytics-service: route api.soundcore-kcp.com/api/v1/analytics: analytics-service:8004 -> analytics-service:8004 (weight 90), analytics-service-preview:8004 (weight 10)',
  ]);
});

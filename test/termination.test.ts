/**
 * Pods of a colour being scaled down, or replaced by a rollout, keep serving until the ingress
 * controller and kube-proxy have dropped them from their endpoints, then get time to finish what
 * they are serving.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { Microservice, MicroserviceProps } from '../constructs';
import { ORDERS } from './orders-props';
import { ROOT } from '../synth/root';

const BASE: MicroserviceProps = ORDERS;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const podSpecs = (props: Partial<MicroserviceProps> = {}): any[] => {
  const chart = Testing.chart();
  new Microservice(chart, 'Orders', { ...BASE, ...props });
  return Testing.synth(chart).filter((o) => o.kind === 'Deployment').map((d) => d.spec.template.spec);
};

describe('Microservice termination', () => {
  test('by default sleeps 10 s in preStop (ingress-nginx endpoint propagation), then gives the process 30 s: grace 40 s', () => {
    const [spec] = podSpecs();
    expect(spec.containers[0].lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '10'] } } });
    expect(spec.terminationGracePeriodSeconds).toBe(40);
  });

  test('preStopDelay and shutdownTimeout set the hook and the grace period; a 0 s delay has no hook', () => {
    const [spec] = podSpecs({ preStopDelay: Duration.seconds(20), shutdownTimeout: Duration.minutes(1) });
    expect(spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '20']);
    expect(spec.terminationGracePeriodSeconds).toBe(80);
    const [none] = podSpecs({ preStopDelay: Duration.seconds(0) });
    expect(none.containers[0].lifecycle).toBeUndefined();
    expect(none.terminationGracePeriodSeconds).toBe(30);
  });

  test.each([
    [{ preStopDelay: Duration.millis(1500) }, /^Microservice orders: preStopDelay must be whole seconds from 0 to 300, got "1500ms"$/],
    [{ preStopDelay: Duration.minutes(6) }, /^Microservice orders: preStopDelay must be whole seconds from 0 to 300, got "360s"$/],
    [{ shutdownTimeout: Duration.seconds(0) }, /^Microservice orders: shutdownTimeout must be whole seconds from 1 to 3600, got "0s"$/],
  ])('refuses %j', (patch, message) => {
    expect(() => podSpecs(patch)).toThrow(message);
  });

  test('every Deployment in dist/ (both colours of every pair, every rolling one) has the hook and the grace period', () => {
    let count = 0;
    for (const env of ['production', 'staging']) {
      for (const file of fs.readdirSync(path.join(ROOT, 'dist', env)).filter((f) => /-deployment-/.test(f))) {
        const spec = YAML.parse(fs.readFileSync(path.join(ROOT, 'dist', env, file), 'utf8')).spec.template.spec;
        expect([file, spec.containers[0].lifecycle, spec.terminationGracePeriodSeconds])
          .toEqual([file, { preStop: { exec: { command: ['sleep', '10'] } } }, 40]);
        count++;
      }
    }
    expect(count).toBe(18);
  });
});

import { MicroserviceProps, ReleaseStrategy } from '../constructs';

/** Props of a plain rolling Microservice, the starting point of the construct tests. */
export const ORDERS: MicroserviceProps = {
  name: 'orders',
  image: 'registry.example.com/shop/orders',
  release: ReleaseStrategy.rolling({ imageTag: 'v2.3.1' }),
  containerPort: 8080,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
};

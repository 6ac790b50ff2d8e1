// Stack entry point: `pulumi up --stack staging` (see README, "Deploying").
import * as pulumi from '@pulumi/pulumi';
import { ENVIRONMENTS } from '../environments';
import { readReleaseStates } from '../release/files';
import { ROOT } from '../synth/root';
import { deployEnvironment } from './program';

const config = new pulumi.Config('soundcore-kcp');
const deployed = deployEnvironment({
  environment: config.require('environment'), kubeContext: config.get('kubeContext'), releaseStates: readReleaseStates(ROOT, ENVIRONMENTS),
});

/** Number of Kubernetes objects in the stack. */
export const objectCount = deployed.objects.length;

// Stack entry point: `pulumi up --stack staging` (see README, "Deploying").
import * as pulumi from '@pulumi/pulumi';
import { deployEnvironment } from './program';

const config = new pulumi.Config('soundcore-kcp');
const deployed = deployEnvironment({ environment: config.require('environment'), kubeContext: config.get('kubeContext') });

/** Number of Kubernetes objects in the stack. */
export const objectCount = deployed.objects.length;

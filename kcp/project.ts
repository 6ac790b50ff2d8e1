/**
 * The names every object of a KCP environment shares: the project label and the label that makes an
 * environment's folder of `dist/` one deploy set.
 */
import { Conventions } from '../constructs';

/**
 * Label on every object of an environment's folder of dist/ (a chart label), naming the environment:
 * the deploy prunes exactly the objects carrying it that the folder no longer holds (scripts/deploy.sh).
 */
export const DEPLOY_SET_LABEL = 'deploy.soundcore-kcp.com/set';

/** Value of the `project` label and `app.kubernetes.io/part-of`. */
export const PROJECT = 'soundcore-kcp';

/**
 * The KCP's conventions (set on every environment chart): the `app` and `version` (colour) label
 * keys, annotations under `soundcore-kcp.com`, and UID/GID 10001, the non-root user the KCP images
 * create in their Dockerfiles.
 */
export const KCP_CONVENTIONS = new Conventions({
  appLabel: 'app', colourLabel: 'version', annotationDomain: 'soundcore-kcp.com', runAsUser: 10001,
});

/**
 * The Soundcore KCP environment chart and the names it shares with the pipeline that synthesizes it.
 * It builds on the construct library (constructs/) and the environments' data (environments/) only.
 */
export { ComponentsFailedError, KcpEnvironmentChart } from './chart';
export type { ComponentFailure, KcpEnvironmentChartProps, ReleaseSmokeTest, ResolvedRelease, ResolvedReleases } from './chart';
export { DEPLOY_SET_LABEL, KCP_CONVENTIONS, PROJECT } from './project';
export { ACME_SOLVER } from './traffic';

/**
 * The composition root: the environment registry, the component catalogue and the release states
 * read from disk, handed to the synthesis pipeline (synth/pipeline.ts), which checks them as a whole,
 * builds one KCP chart per environment (kcp/), runs the validation gate and writes `dist/`.
 *
 *   npm run synth          (or `cdk8s synth`, which runs the same entry point)
 */
import * as path from 'path';
import { CATALOGUE, ENVIRONMENTS } from './environments';
import { readReleaseStates } from './release/files';
import { writeManifests } from './synth/pipeline';
import { ROOT } from './synth/root';

/** Entry point of `npm run synth` and `cdk8s synth`. Returns the process exit code. */
export function main(): number {
  // `cdk8s synth` empties its output folder before running us, so cdk8s.yaml points it at a scratch
  // folder rather than dist/; it gets a copy for its file listing and validation plugins.
  const cliOut = process.env.CDK8S_OUTDIR;
  return writeManifests({
    environments: ENVIRONMENTS,
    catalogue: CATALOGUE,
    // (read by the pipeline holding dist/'s lock: a release writes them and dist/ together)
    releaseStates: () => readReleaseStates(ROOT, ENVIRONMENTS),
    outdir: path.join(ROOT, 'dist'),
    copyTo: cliOut === undefined ? undefined : path.resolve(ROOT, cliOut),
  });
}

/**
 * Crash testing of writes (synth/transaction.ts): images of the disk as a crash at each step
 * leaves it, and running with or without the atomic directory exchange.
 */
import * as fs from 'fs';
import { Failpoint, Step } from '../synth/transaction';

/** With and without the atomic exchange (`KCP_DIR_EXCHANGE`): on Linux, and on platforms lacking it. */
export const MODES = [['one atomic exchange', 'on'], ['two journaled renames', 'off']] as const;
export type Mode = (typeof MODES)[number][1];

/** Runs `fn` with the exchange on or off, as on a platform with or without it. */
export function withExchange<T>(exchange: Mode, fn: () => T): T {
  const previous = process.env.KCP_DIR_EXCHANGE;
  process.env.KCP_DIR_EXCHANGE = exchange;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env.KCP_DIR_EXCHANGE;
    else process.env.KCP_DIR_EXCHANGE = previous;
  }
}

/**
 * What a crash at each step leaves on disk: `run` is given a failpoint that copies the whole of
 * `root` (to `<root>.<step>`) at every step it reaches. The writer is stopped at that instant (the
 * failpoint runs inside it), so each copy is what a SIGKILL there leaves behind, and one write gives
 * them all; the tests also kill real processes at some steps and check that they match.
 */
export function crashImages(root: string, run: (failpoint: Failpoint) => void): Map<Step, string> {
  const images = new Map<Step, string>();
  run((step) => {
    const image = `${root}.${step}`;
    fs.cpSync(root, image, { recursive: true });
    images.set(step, image);
  });
  return images;
}

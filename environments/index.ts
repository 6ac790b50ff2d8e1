/**
 * The environment registry. Adding an environment is one new file beside this one plus one line
 * in `ENVIRONMENTS`.
 */
import { EnvironmentConfig } from './model';
import { production } from './production';
import { staging } from './staging';

export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  staging,
  production,
];

export type * from './model';
export { SecretMode } from './model';
export * from './catalogue';
export * from './resolve';

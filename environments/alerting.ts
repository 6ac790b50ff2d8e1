import type { AlertReceiver, AlertRoute, SecretKey } from '../constructs/alert-routing';
import { AlertSeverity } from '../constructs/monitoring';
import { MONITORING_DEFAULTS, SLO_TEAMS } from './monitoring';

/**
 * Where the alerts of the KCP go (README "Alert routing"). The teams are those of the alert rules
 * (`MONITORING_DEFAULTS.alerts` and `SLO_TEAMS`); a rule of a team without a route is a synth error
 * (constructs/alert-routing.ts).
 */

/** The Secret holding the receivers' credentials, in each environment's namespace. */
export const ALERTING_SECRET = 'alertmanager-receivers';
/** Its keys. */
export const ALERTING_SECRET_KEYS = { slackWebhookUrl: 'slack-webhook-url', smtpPassword: 'smtp-password' } as const;

/** Where production's ExternalSecret reads each key (the platform's secret store, like db-credentials). */
export const ALERTING_REMOTE_REFS: { readonly [key: string]: { readonly key: string; readonly property: string } } = {
  [ALERTING_SECRET_KEYS.slackWebhookUrl]: { key: 'soundcore-kcp/production/alertmanager', property: 'slack-webhook-url' },
  [ALERTING_SECRET_KEYS.smtpPassword]: { key: 'soundcore-kcp/production/alertmanager', property: 'smtp-password' },
};

/** Every team an alert rule of the KCP names. */
export const ALERT_TEAMS: readonly string[] = [...new Set([
  ...Object.values(MONITORING_DEFAULTS.alerts).map((a) => a.team),
  ...Object.values(SLO_TEAMS),
])].sort();

/** The receivers and routes of one environment. */
export interface AlertingSettings {
  readonly receivers: readonly AlertReceiver[];
  readonly routes: readonly AlertRoute[];
  readonly defaultReceiver: string;
}

const slackUrl: SecretKey = { name: ALERTING_SECRET, key: ALERTING_SECRET_KEYS.slackWebhookUrl };
const smtpPassword: SecretKey = { name: ALERTING_SECRET, key: ALERTING_SECRET_KEYS.smtpPassword };

/**
 * Production: a critical alert pages its team (Slack with `@here` in the team's on-call channel,
 * and an e-mail to the team's on-call address), re-notified every hour while it fires; anything
 * else is a message without mention in the team's channel, re-notified every 12 hours.
 */
export function productionAlerting(teams: readonly string[] = ALERT_TEAMS): AlertingSettings {
  return {
    receivers: teams.flatMap((team) => [
      {
        name: `${team}-page`,
        slack: { webhookUrl: slackUrl, channel: `#kcp-${team}-oncall`, mentions: ['<!here>'] },
        email: { to: `${team}-oncall@soundcore-kcp.com`, from: 'alertmanager@soundcore-kcp.com', smarthost: 'smtp.soundcore-kcp.com:587', username: 'alertmanager', password: smtpPassword },
      },
      { name: `${team}-notify`, slack: { webhookUrl: slackUrl, channel: `#kcp-${team}-alerts` } },
    ]),
    routes: teams.flatMap((team): AlertRoute[] => [
      { team, severity: AlertSeverity.CRITICAL, receiver: `${team}-page`, repeatInterval: '1h' },
      { team, receiver: `${team}-notify`, repeatInterval: '12h' },
    ]),
    defaultReceiver: 'devops-notify',
  };
}

/**
 * Staging pages nobody: every team's alerts, critical ones included, go to one Slack channel without
 * any mention (no `@here`, no user group, no e-mail), re-notified every 12 hours.
 */
export function stagingAlerting(teams: readonly string[] = ALERT_TEAMS): AlertingSettings {
  return {
    receivers: [{ name: 'staging-notify', slack: { webhookUrl: slackUrl, channel: '#kcp-staging-alerts' } }],
    routes: teams.map((team) => ({ team, receiver: 'staging-notify', repeatInterval: '12h' })),
    defaultReceiver: 'staging-notify',
  };
}

/** The alerting of each environment, by name; an environment not listed gets staging's (it pages nobody). */
export const ALERTING: { readonly [environment: string]: AlertingSettings } = {
  production: productionAlerting(),
  staging: stagingAlerting(),
};

/** The alerting of an environment. */
export function alertingFor(environment: string): AlertingSettings {
  return ALERTING[environment] ?? stagingAlerting();
}

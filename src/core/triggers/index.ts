/**
 * What starts pipelines without a person calling the API, each reaching the one creation
 * path (core.creator) — directly, or through the outbox when it must not wait for git:
 *
 *   webhooks/   a forge's push delivery: verify → normalise into a PushEvent → record → queue
 *   tokens.ts   trigger tokens and CI_JOB_TOKEN on `…/trigger/pipeline` (answered with the pipeline)
 *   schedules.ts + cron.ts   due schedule slots, claimed once across processes → queue
 *   build.ts    the outbox handlers that turn queued pushes and schedule runs into pipelines
 *
 * The post-receive hook (`baton hook post-receive`, src/cli/hook.ts) is a client of the
 * webhook URL, so a bare repository's pushes take the same road as a forge's.
 */
export { WebhookReceiver, MAX_WEBHOOK_BODY, type WebhookAnswer } from './webhooks';
export { TriggerService } from './tokens';
export { ScheduleService } from './schedules';
export { InboundBuilder } from './build';
export type { PushEvent } from './push-event';

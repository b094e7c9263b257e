export { AlertDetectors, API_KEY_REFUSALS_THRESHOLD, FAILED_LOGINS_THRESHOLD, FAILED_LOGINS_WINDOW } from './detectors.js';
export { alertHandlers } from './routes.js';
export { AlertService, UPDATE_NOTIFICATION_INTERVAL, cleanEvidence, type AlertNotifier } from './service.js';
export type { AlertStore } from './store.js';
export type { Alert, AlertPrincipal, Evidence, RaiseAlertInput, RaisedAlert } from './types.js';
export { AlertView, alertView } from './view.js';
export { WebhookNotifier, signWebhook } from './webhook.js';

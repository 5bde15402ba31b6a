/** `switchboard/metrics`: Prometheus metrics through prom-client. */
export { registerSwitchboardMetrics, METRICS, type MetricsSources } from './prometheus.js';

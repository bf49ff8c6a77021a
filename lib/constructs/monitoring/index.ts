/** The `Monitoring` construct and what callers use of its parts. */
export {
  ALARM_EMAILS_CONTEXT,
  AlarmTopic,
  type AlarmTopicConstructProps,
  type AlarmTopicProps,
  alarmEmailsFromContext,
  validateAlarmEmail,
} from './alarm-topic';
export { MONITORING_PERIOD, VESTA_METRIC_GROUPS } from './metrics';
export {
  Monitoring,
  type MonitoredResourcesProps,
  type MonitoringProps,
  type MonitoringThresholdProps,
} from './monitoring';

/**
 * The API's operational metrics, published once at the end of every invocation:
 *
 * - `Operations` = 1 per request, dimension `operation`: the route name, or `notFound` /
 *   `methodNotAllowed` for a request no route answers;
 * - `Conflicts` = 1 per 409 or 412 answer, dimension `kind`: the 409 problem's `reason`, or
 *   `PreconditionFailed`;
 * - `SiblingsCreated` = 1 per write whose value was stored beside another concurrent one.
 *
 * One EMF line puts all its metrics under the same dimension sets, so each metric with its own
 * dimension goes out as a single metric (Powertools `singleMetric()`, one line each), and
 * `Operations{service,operation}` and `Conflicts{service,kind}` stay separate metric streams.
 * Metrics only read the answer: they never add a DynamoDB request.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_DIMENSIONS, METRIC_NAMES, type MetricName } from '../core/metric-names';

export type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

/** One metric with dimensions of its own, written as soon as it is added (Powertools `singleMetric()`). */
export interface SingleMetric {
  addDimension(name: string, value: string): unknown;
  addMetric(name: MetricName, unit: MetricUnitValue, value: number): unknown;
}

/**
 * What the API needs of Powertools `Metrics` (which satisfies it as it is). Each method throws
 * only what Powertools throws for an invalid metric (e.g. too many dimensions).
 */
export interface MetricsSink {
  /** Buffers a metric with the default dimensions (`service`) until `publishStoredMetrics`. */
  addMetric(name: MetricName, unit: MetricUnitValue, value: number): unknown;
  /** A fresh single metric carrying the default dimensions. */
  singleMetric(): SingleMetric;
  hasStoredMetrics(): boolean;
  /** Writes the buffered metrics (EMF on stdout) and empties the buffer. */
  publishStoredMetrics(): unknown;
}

/** `operation` of requests that no route answers. */
export const UNROUTED_OPERATION = { notFound: 'notFound', methodNotAllowed: 'methodNotAllowed' } as const;

/** `kind` of a 412 answer. */
export const PRECONDITION_FAILED_KIND = 'PreconditionFailed';

/** What metrics read of an answer. */
export interface Answer {
  readonly statusCode: number;
  readonly body?: string | null;
}

/**
 * The `kind` of conflict an answer reports: the 409 problem's `reason` (`Unknown` when the body
 * has none), `PreconditionFailed` for a 412, `undefined` for any other status. Never throws.
 */
export function conflictKind(answer: Answer): string | undefined {
  if (answer.statusCode === 412) return PRECONDITION_FAILED_KIND;
  if (answer.statusCode !== 409) return undefined;
  try {
    const reason: unknown = JSON.parse(answer.body ?? '').reason;
    return typeof reason === 'string' && reason !== '' ? reason : 'Unknown';
  } catch {
    return 'Unknown';
  }
}

/** The API's metrics over a sink; see the file comment. */
export class ApiMetrics {
  public constructor(private readonly sink: MetricsSink) {}

  /** Buffers one `SiblingsCreated`; it goes out with the invocation's `publish`. */
  public siblingsCreated(): void {
    this.sink.addMetric(METRIC_NAMES.siblingsCreated, MetricUnit.Count, 1);
  }

  /**
   * Publishes the metrics of one answered request: `Operations`, `Conflicts` for a 409 or 412,
   * and what was buffered during the invocation. Throws what the sink throws.
   */
  public publish(operation: string, answer: Answer): void {
    this.single(METRIC_NAMES.operations, operation);
    const kind = conflictKind(answer);
    if (kind !== undefined) this.single(METRIC_NAMES.conflicts, kind);
    if (this.sink.hasStoredMetrics()) this.sink.publishStoredMetrics();
  }

  private single(name: keyof typeof METRIC_DIMENSIONS, value: string): void {
    const metric = this.sink.singleMetric();
    metric.addDimension(METRIC_DIMENSIONS[name], value);
    metric.addMetric(name, MetricUnit.Count, 1);
  }
}

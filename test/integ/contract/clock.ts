/** A clock the contract suites move by hand, so that expiry is tested without sleeping. */
import type { Clock } from '../../../src/core/ports';

export class FakeClock implements Clock {
  public constructor(public t = Date.parse('2026-11-22T10:00:00.000Z')) {}

  public now(): Date {
    return new Date(this.t);
  }

  public advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

/**
 * @module core/clock
 * The one source of "now" for code that may not read the system clock directly (policy never
 * reads it at all; queue and trace take a Clock so tests can move time).
 * Touches: nothing.
 */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test can set and advance. */
export class FakeClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
